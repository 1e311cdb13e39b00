# Two httpd nodes on one PostgreSQL database, 32 writers split across them
# (docs/postgresql.md): $RevisePatient creates get distinct, valid PHNs
# (CR-PHN-007, CR-PHN-010); revises of the same people with If-Match lose
# no update (exactly one wins per version, the rest 412) and unconditional
# ones are all applied; merges running beside revises of their survivors
# all land; every acknowledged write is readable on both nodes; the audit
# trail verifies afterwards (cr-admin audit-verify), its records spread
# over several chains (the appenders ran in parallel), and a record edited
# or removed in any chain is found there while the other chains stay
# intact (schema 013).  PostgreSQL only: on
# SQLite the writers of one node are one at a time and there is no second
# node to run.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use CR::Test;
use CR::BC;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use JSON::PP;
use LWP::UserAgent;
use POSIX ();
use Time::HiRes qw(time sleep);

plan skip_all => 'two nodes on one database: PostgreSQL only (CR_TEST_PG)'
    unless $ENV{CR_TEST_PG};
plan tests => 28;

my $WRITERS = 32;
my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-pn');
my %U = (UserId => 'pg.nodes@example.org');
my $JSON = JSON::PP->new->utf8->canonical;
my $MS = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-merge-status-extension';
my $dir = tempdir(CLEANUP => !$ENV{CR_TEST_KEEP});
diag "second node in $dir" if $ENV{CR_TEST_KEEP};
chmod 0777, $dir;

# ---- the second node: the test server's configuration, its main server
# only (no TLS or stale-database hosts), on a free port, with its own pid,
# logs and run-time files.
sub free_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
                                  LocalPort => 0, ReuseAddr => 1) or die $!;
    my $p = $s->sockport;
    close $s;
    return $p;
}
my $t = t_dir();
my $port2 = free_port();
my $port1 = (split /:/, Apache::TestRequest::hostport())[1];
open my $in, '<', "$t/conf/extra.conf" or die "$t/conf/extra.conf: $!";
my $extra = do { local $/; <$in> };
close $in;
# Up to the first virtual host: the registry locations of the main server.
$extra =~ s/\n# A virtual host whose database.*//s
    or die "extra.conf: no end of the main server's part\n";
open $in, '<', "$t/conf/httpd.conf" or die $!;
my $conf = do { local $/; <$in> };
close $in;
$conf =~ s/^Listen\s+\S+/Listen 127.0.0.1:$port2/m or die "no Listen\n";
$conf =~ s/^ServerName\s+\S+/ServerName localhost:$port2/m;
$conf =~ s{^(PidFile|ErrorLog|TransferLog|ScriptSock)\s+\S+.*$}
          {"$1 $dir/" . lc($1)}gme;
$conf =~ s{^(\s*DefaultRunTimeDir)\s+.*$}{$1 "$dir"}m;
$conf =~ s{^(\s*DefaultStateDir)\s+.*$}{$1 "$dir"}m;
$conf =~ s{^Include\s+"?\S*extra\.conf"?\s*$}{Include "$dir/extra.conf"}m
    or die "no Include of extra.conf\n";
for ([ "$dir/extra.conf", $extra ], [ "$dir/httpd.conf", $conf ]) {
    open my $out, '>', $_->[0] or die "$_->[0]: $!";
    print $out $_->[1];
    close $out;
}
my $httpd = Apache::Test::vars('httpd');
system($httpd, '-f', "$dir/httpd.conf", '-k', 'start') == 0
    or die "second node did not start\n";
my $parent = $$;
END {
    if ($httpd && defined $parent && $$ == $parent && -f "$dir/pidfile") {
        system($httpd, '-f', "$dir/httpd.conf", '-k', 'stop');
        for (1 .. 50) { last unless -f "$dir/pidfile"; sleep 0.1 }
    }
}
my @base = ("http://127.0.0.1:$port1/fhir", "http://127.0.0.1:$port2/fhir");
my $probe = LWP::UserAgent->new(timeout => 30);
my $up = 0;
for (1 .. 100) {
    my $r = $probe->get("$base[1]/metadata");
    if ($r->code == 200) { $up = 1; last }
    sleep 0.1;
}
ok($up, "the second node answers on port $port2");

# ---- helpers ---------------------------------------------------------------
sub call {
    my ($ua, $node, $method, $path, $body, %h) = @_;
    my $req = HTTP::Request->new($method, $base[$node] . $path);
    $req->header(Accept => 'application/fhir+json', %U, %h);
    if (defined $body) {
        $req->header('Content-Type' => 'application/fhir+json');
        $req->content($JSON->encode($body));
    }
    return $ua->request($req);
}
# Letters for a number (names take no digits).
sub letters {
    my $k = shift;
    my $s = '';
    do { $s = chr(97 + $k % 26) . $s; $k = int($k / 26) } while ($k > 0);
    return $s;
}
# A record of its own: family, given name and birth date differ between
# records, so that no two are a certain match (which would link them).
sub revise_body {
    my ($sri, $k, $given) = @_;
    my $family = ucfirst(letters($k * 7919 + 20000)) . lc $tok;
    $given //= ucfirst(letters($k * 104729 + 5000));
    return bc_request(patient => {
        resourceType => 'Patient',
        extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/'
                                . 'StructureDefinition/'
                                . 'bc-business-period-extension',
                         valuePeriod => { start => '2024-01-01' } } ],
        identifier => [ { use => 'official', system => $fha,
                          value => $sri } ],
        name => [ { use => 'official', family => $family,
                    given => [$given] } ],
        gender => 'female',
        birthDate => sprintf('%04d-%02d-%02d', 1930 + $k % 60,
                             1 + int($k / 60) % 12, 1 + int($k / 720) % 28),
        address => [ { type => 'physical', line => ["$k Lakeshore Rd"],
                       city => 'Nelson', state => 'BC', country => 'CA' } ],
    });
}
sub merge_body {
    my ($surv, $ns) = @_;
    return bc_request(patient => {
        resourceType => 'Patient',
        identifier => [ { use => 'official', system => $fha,
                          value => $surv } ],
        link => [ { extension => [ { url => $MS, valueCode => 'obsolete' } ],
                    other => { identifier => { system => $fha,
                                               value => $ns } },
                    type => 'replaces' } ] });
}
sub patient_of {
    my $res = shift;
    my $j = eval { $JSON->decode($res->content) } || {};
    my ($p) = patients_of($j);
    return $p || {};
}
sub phn_in {
    my $p = shift;
    my ($phn) = map { $_->{value} } grep { $_->{system} eq PHN_SYS }
                @{ $p->{identifier} || [] };
    return $phn;
}
# 32 writers, odd ones on the first node and even ones on the second,
# starting together; each returns lines "status id version ...".
sub run_writers {
    my $work = shift;
    my $go = time + 0.5;
    my @pids;
    for my $c (1 .. $WRITERS) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $ua = LWP::UserAgent->new(timeout => 60, keep_alive => 1);
            sleep(0.005) while time < $go;
            open my $out, '>', "$dir/w$c.out" or die $!;
            print $out $_, "\n" for $work->($ua, $c % 2, $c);
            close $out;
            POSIX::_exit(0);   # not the parent's END block
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    my @lines;
    for my $c (1 .. $WRITERS) {
        open my $f, '<', "$dir/w$c.out" or next;
        push @lines, map { chomp; $_ } <$f>;
        unlink "$dir/w$c.out";
    }
    return @lines;
}

# ---- 1. creates: 32 writers x 3 new source records -------------------------
my @r = run_writers(sub {
    my ($ua, $node, $c) = @_;
    my @out;
    for my $i (1 .. 3) {
        my $res = call($ua, $node, 'POST', '/Patient/$RevisePatient',
                       revise_body("PN$tok-$c-$i", 10 * $c + $i));
        my $p = patient_of($res);
        push @out, join ' ', $res->code, $p->{id} // '-', phn_in($p) // '-',
                   "PN$tok-$c-$i";
    }
    return @out;
});
my @created = grep { /^201 / } @r;
is(scalar @created, 3 * $WRITERS, 'CR-PHN-010: every create on either node got 201')
    or diag join "\n", grep { !/^201 / } @r;
my (%phn, %sri_id);
for (@created) {
    my (undef, $id, $phn, $sri) = split ' ';
    $phn{$phn}++;
    $sri_id{$sri} = $id;
}
is(scalar keys %phn, 3 * $WRITERS, 'CR-PHN-010: all PHNs distinct across the nodes');
is(scalar(grep { !valid_phn($_) } keys %phn), 0, 'CR-PHN-007: all PHNs valid');
is(db_row('SELECT COUNT(*) AS n FROM (SELECT phn FROM cr_patient WHERE phn IS '
          . 'NOT NULL GROUP BY phn HAVING COUNT(*) > 1) AS d')->{n}, 0,
   'stored: no PHN held twice');

# ---- 1b. first revises of one new SRI at once: one create, the rest revise
# (the losers of the create race find the winner's person when run again,
# instead of a 422 for the identifier it now holds).
my $same = "PN$tok-same";
@r = run_writers(sub {
    my ($ua, $node, $c) = @_;
    my $res = call($ua, $node, 'POST', '/Patient/$RevisePatient',
                   revise_body($same, 7));
    return join ' ', $res->code, patient_of($res)->{id} // '-';
});
is(scalar(grep { /^201 / } @r), 1, 'first revises of one new SRI on two nodes: one create')
    or diag join "\n", @r;
is(scalar(grep { /^200 / } @r), $WRITERS - 1, 'the others revise the person it created (200, no 422)')
    or diag join "\n", grep { !/^20[01] / } @r;
is(db_row('SELECT COUNT(DISTINCT patient_id) AS n FROM cr_identifier WHERE value = ?',
          $same)->{n}, 1, 'stored: one person holds the SRI');

# ---- 2. revises of the same people with If-Match: one winner per version --
my @people = map { "PN$tok-$_-1" } 1 .. 4;
my %ver0 = map { $_ => db_row('SELECT version_id FROM cr_patient WHERE id = ?',
                              $sri_id{$_})->{version_id} } @people;
@r = run_writers(sub {
    my ($ua, $node, $c) = @_;
    my $sri = $people[$c % 4];
    my $res = call($ua, $node, 'POST', '/Patient/$RevisePatient',
                   revise_body($sri, 10 * ($c % 4 + 1) + 1,
                               'Rev' . letters($c)),
                   'If-Match' => qq{W/"$ver0{$sri}"});
    return join ' ', $res->code, $sri;
});
my %wins;
$wins{(split ' ')[1]}++ for grep { /^200 / } @r;
is_deeply(\%wins, { map { $_ => 1 } @people },
          'If-Match race on two nodes: exactly one 200 per person')
    or diag join "\n", @r;
is(scalar(grep { /^412 / } @r), $WRITERS - 4, 'If-Match race: the rest 412');
is_deeply({ map { $_ => db_row('SELECT version_id FROM cr_patient WHERE id = ?',
                               $sri_id{$_})->{version_id} } @people },
          { map { $_ => $ver0{$_} + 1 } @people },
          'If-Match race: one new version per person, none lost');

# ---- 3. unconditional revises of the same people: all applied -------------
%ver0 = map { $_ => db_row('SELECT version_id FROM cr_patient WHERE id = ?',
                           $sri_id{$_})->{version_id} } @people;
@r = run_writers(sub {
    my ($ua, $node, $c) = @_;
    my $sri = $people[$c % 4];
    my $res = call($ua, $node, 'POST', '/Patient/$RevisePatient',
                   revise_body($sri, 10 * ($c % 4 + 1) + 1,
                               'Free' . letters($c)));
    my $p = patient_of($res);
    return join ' ', $res->code, $sri, $p->{meta}{versionId} // '-';
});
is(scalar(grep { /^200 / } @r), $WRITERS, 'unconditional revises on two nodes: all 200')
    or diag join "\n", grep { !/^200 / } @r;
is_deeply({ map { $_ => db_row('SELECT version_id FROM cr_patient WHERE id = ?',
                               $sri_id{$_})->{version_id} } @people },
          { map { $_ => $ver0{$_} + $WRITERS / 4 } @people },
          'no lost update: every revise made a version');
my %acked;
for (@r) {
    my (undef, $sri, $v) = split ' ';
    $acked{"$sri $v"}++;
}
is(scalar keys %acked, $WRITERS, 'each acknowledged revise got its own version');

# ---- 4. merges beside revises of their survivors ---------------------------
# Writers 1-16 merge person (c, 2) into (c, 3); writers 17-32 revise the
# survivor (c - 16, 3) at the same time.
@r = run_writers(sub {
    my ($ua, $node, $c) = @_;
    my $res;
    if ($c <= 16) {
        $res = call($ua, $node, 'POST', '/Patient/$MergePatient',
                    merge_body("PN$tok-$c-3", "PN$tok-$c-2"));
        return join ' ', 'merge', $res->code, $c;
    }
    my $k = $c - 16;
    $res = call($ua, $node, 'POST', '/Patient/$RevisePatient',
                revise_body("PN$tok-$k-3", 10 * $k + 3,
                            'Surv' . letters($k)));
    return join ' ', 'revise', $res->code, $k;
});
is(scalar(grep { /^merge 200 / } @r), 16, 'merges on two nodes: all 200')
    or diag join "\n", @r;
is(scalar(grep { /^revise 200 / } @r), 16, 'revises of the survivors meanwhile: all 200')
    or diag join "\n", @r;
is(scalar(grep { db_row('SELECT replaced_by FROM cr_patient WHERE id = ?',
                        $sri_id{"PN$tok-$_-2"})->{replaced_by}
                 // '' eq $sri_id{"PN$tok-$_-3"} } 1 .. 16), 16,
   'stored: every non-survivor replaced by its survivor');

# ---- 5. every acknowledged write readable on both nodes --------------------
my $ua = LWP::UserAgent->new(timeout => 30);
my $readable = 0;
for my $id (values %sri_id) {
    my $v = db_row('SELECT version_id FROM cr_patient WHERE id = ?', $id)
        ->{version_id};
    my $ok = 1;
    for my $node (0, 1) {
        my $res = call($ua, $node, 'GET', "/Patient/$id");
        my $j = eval { $JSON->decode($res->content) } || {};
        $ok = 0 unless $res->code == 200 && ($j->{meta}{versionId} // '') eq $v;
    }
    $readable += $ok;
}
is($readable, 3 * $WRITERS, 'every acknowledged write is readable, current, on both nodes');

# ---- 6. the audit chain ----------------------------------------------------
# The nodes' audit writers flush within a second.
sleep 2;
my $cmd = cr_admin_cmd('audit-verify');
my $out = `$cmd 2>&1`;
is($?, 0, 'the audit chain of both nodes verifies (cr-admin audit-verify)')
    or diag $out;

# ---- 7. the audit chains: parallel appenders, tampering found per chain ---
my $chains = db_row('SELECT COUNT(DISTINCT chain) AS n FROM cr_audit WHERE chain > 0')->{n};
cmp_ok($chains, '>=', 2, "the writers appended to several chains ($chains)");
like($out, qr/^audit trail intact: \d+ records in \d+ chains$/m,
     'cr-admin reports every chain intact') or diag $out;
# Two chains with at least three records, each tampered in the middle.
my @long = map { $_->{chain} } @{ db_rows(
    'SELECT chain FROM cr_audit WHERE chain > 0 GROUP BY chain'
    . ' HAVING MAX(chain_seq) >= 3 ORDER BY chain LIMIT 2') };
is(scalar @long, 2, 'two chains of three records or more');
my ($c1, $c2) = @long;
my $pos = sub { db_row('SELECT * FROM cr_audit WHERE chain = ? AND chain_seq = ?',
                       @_) };
my $edit = $pos->($c1, 2);
db_dbh()->do('UPDATE cr_audit SET status = ? WHERE seq = ?', undef,
             $edit->{status} + 1, $edit->{seq});
my $gone = $pos->($c2, 2);
my $next = $pos->($c2, 3);
db_dbh()->do('DELETE FROM cr_audit WHERE seq = ?', undef, $gone->{seq});
$out = `$cmd 2>&1`;
is($? >> 8, 3, 'an edited record in one chain, a removed one in another: exit 3')
    or diag $out;
like($out, qr/^chain $c1: BROKEN at position 2 \(record $edit->{seq}\)$/m,
     "the edit is found in chain $c1 at its record") or diag $out;
like($out, qr/^chain $c2: BROKEN at position 2 \(record $next->{seq}\)$/m,
     "the removal is found in chain $c2 where the next record stands")
    or diag $out;
my @intact = $out =~ /^chain \d+: intact/mg;
is(scalar @intact, $chains - 2 + (db_row('SELECT COUNT(*) AS n FROM cr_audit'
                                         . ' WHERE chain = 0')->{n} ? 1 : 0),
   'every other chain intact') or diag $out;
# The administrators' $verify on a node says the same, per chain.
my $res = fhir_post('/fhir/AuditEvent/$verify', {});
my %chain = map {
    my %p = map { $_->{name} => ($_->{valueBoolean} // $_->{valueInteger}) }
            @{ $_->{part} };
    ($p{chain} => \%p)
} grep { $_->{name} eq 'chain' } @{ json_of($res)->{parameter} || [] };
ok(!$chain{$c1}{intact} && $chain{$c1}{firstBroken} == $edit->{seq}
   && !$chain{$c2}{intact} && $chain{$c2}{firstBroken} == $next->{seq},
   'AuditEvent/$verify names both broken chains and their records')
    or diag explain \%chain;
# Put back: intact again.
db_dbh()->do('UPDATE cr_audit SET status = ? WHERE seq = ?', undef,
             $edit->{status}, $edit->{seq});
my @cols = grep { defined $gone->{$_} } sort keys %$gone;
db_dbh()->do('INSERT INTO cr_audit (' . join(', ', @cols) . ') VALUES ('
             . join(', ', ('?') x @cols) . ')', undef, @{$gone}{@cols});
$out = `$cmd 2>&1`;
is($?, 0, 'restored: the trail verifies again') or diag $out;
