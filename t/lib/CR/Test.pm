package CR::Test;
# Helpers for the mod_clientregistry Apache::Test suite: FHIR requests,
# JSON decoding, OperationOutcome inspection, sample patients and direct
# reads of the database the server writes (SQLite under t/var, or the
# PostgreSQL database of $CR_TEST_PG: see t/TEST.PL).
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use JSON::PP ();
use DBI ();
use Apache::Test ();
use Apache::TestRequest ();
use HTTP::Request ();
use HTTP::Response ();
use IO::Socket::INET ();

our @EXPORT = qw(fhir_get fhir_post fhir_put fhir_request json_of oo_issues
                 oo_codes sample_patient unique_name db_dbh db_row db_rows
                 create_patient phn_of valid_phn t_dir db_tables
                 cr_admin_cmd raw_request server_stop);

my $JSON = JSON::PP->new->utf8->canonical;
my $seq = 0;

sub t_dir { Apache::Test::vars('t_dir') }

# fhir_request(METHOD, PATH, BODY, HEADERS...) -> HTTP::Response.
# BODY: undef, a string (sent as is) or a reference (JSON-encoded).
sub fhir_request {
    my ($method, $path, $body, %h) = @_;
    my %headers = ('Accept' => 'application/fhir+json', %h);
    if (defined $body) {
        $headers{'Content-Type'} //= 'application/fhir+json';
        $body = $JSON->encode($body) if ref $body;
        $headers{content} = $body;
    }
    my $module = delete $headers{module};
    my $cert = delete $headers{cert};
    Apache::TestRequest::module($module) if $module;
    Apache::TestRequest::scheme($module && ($module eq 'mod_ssl'
                                            || $module eq 'cr_oauth')
                                ? 'https' : 'http');
    Apache::TestRequest::set_client_cert($cert) if $module
                                                   && $module eq 'mod_ssl';
    my $res;
    if ($method eq 'DELETE') {
        # Apache::TestRequest has no DELETE helper: its user agent (with
        # the scheme and client certificate chosen above) sends it.
        my $content = delete $headers{content};
        my $req = HTTP::Request->new('DELETE',
            Apache::TestRequest::resolve_url($path), [ %headers ],
            $content);
        $res = Apache::TestRequest::user_agent()->request($req);
    }
    else {
        no strict 'refs';
        my $fn = "Apache::TestRequest::$method";
        $res = $fn->($path, %headers);
    }
    Apache::TestRequest::module('default') if $module;
    Apache::TestRequest::scheme('http') if $module;
    return $res;
}

# fhir_get(PATH, HEADERS...): no body.
sub fhir_get  { my $p = shift; fhir_request('GET', $p, undef, @_) }
sub fhir_post { fhir_request('POST', @_) }
sub fhir_put  { fhir_request('PUT', @_) }

sub json_of {
    my $res = shift;
    my $c = $res->content;
    return undef unless defined $c && length $c;
    my $d = eval { $JSON->decode($c) };
    return $d;
}

# Issues of an OperationOutcome response (or of the outcome in a Bundle).
sub oo_issues {
    my $d = ref $_[0] eq 'HASH' ? $_[0] : json_of($_[0]);
    return () unless $d;
    return @{ $d->{issue} || [] } if ($d->{resourceType} // '') eq
                                      'OperationOutcome';
    return ();
}

# "code@expression" strings of the error issues.
sub oo_codes {
    my @c;
    for my $i (oo_issues(@_)) {
        next unless $i->{severity} eq 'error' || $i->{severity} eq 'fatal';
        my $e = $i->{expression} ? '@' . $i->{expression}[0] : '';
        push @c, "$i->{code}$e";
    }
    return \@c;
}

# A family name unique to this test run and file.
sub unique_name {
    my $base = shift // 'Testfamily';
    $seq++;
    my $tag = join '', map { chr(ord('a') + $_ % 26) }
              ($$ % 26, int($$ / 26) % 26, $seq % 26, int($seq / 26) % 26,
               int(rand(26)), int(rand(26)));
    return $base . $tag;
}

sub sample_patient {
    my %o = @_;
    my $p = {
        resourceType => 'Patient',
        name => [ { use => 'official', family => $o{family} // unique_name(),
                    given => [ $o{given} // 'Alice' ] } ],
        gender => $o{gender} // 'female',
        birthDate => $o{birthDate} // '1980-03-04',
        telecom => [ { system => 'phone', value => $o{phone} // '2505550100',
                       use => 'home' } ],
        address => [ { type => 'physical', line => ['1 Main St'],
                       city => 'Victoria', state => 'BC',
                       postalCode => $o{postal} // 'V8W 1A1',
                       country => 'CA' } ],
    };
    $p->{identifier} = $o{identifier} if $o{identifier};
    return $p;
}

# POST a sample patient, return (response, resource).
sub create_patient {
    my $res = fhir_post('/fhir/Patient', sample_patient(@_));
    return ($res, json_of($res));
}

sub phn_of {
    my $p = shift;
    for my $id (@{ $p->{identifier} || [] }) {
        return $id->{value} if $id->{system} eq
            'https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id';
    }
    return undef;
}

# The mod-11 PHN check (phn.md) in Perl, to check what the server issues.
sub valid_phn {
    my $s = shift;
    return 0 unless defined $s && $s =~ /^9\d{9}$/;
    my @w = (2, 4, 8, 5, 10, 9, 7, 3);
    my @d = split //, $s;
    my $sum = 0;
    $sum += ($d[$_ + 1] * $w[$_]) % 11 for 0 .. 7;
    my $r = $sum % 11;
    return 0 if $r < 2;
    return $d[9] == 11 - $r;
}

# PostgreSQL ($CR_TEST_PG, libpq key=value parameters): the stale
# database's parameters, DBI's connect arguments, a fresh database.
sub pg_stale {
    my $p = shift;
    $p =~ s/\bdbname=(\w+)/dbname=$1_stale/ or die "CR_TEST_PG: no dbname\n";
    return $p;
}

sub pg_connect {
    my ($params, $dbname) = @_;
    my %kv = $params =~ /(\w+)=(\S+)/g;
    $kv{dbname} = $dbname if defined $dbname;
    my $user = delete $kv{user} // '';
    my $password = delete $kv{password} // '';
    require DBD::Pg;
    return DBI->connect('dbi:Pg:' . join(';', map { "$_=$kv{$_}" } sort keys %kv),
                        $user, $password,
                        { RaiseError => 1, AutoCommit => 1, PrintWarn => 0,
                          # a forked test client must not close it
                          AutoInactiveDestroy => 1 });
}

sub pg_create {
    my $params = shift;
    my ($name) = $params =~ /\bdbname=(\w+)/ or die "CR_TEST_PG: no dbname\n";
    my $dbh = pg_connect($params, 'postgres');
    $dbh->do("DROP DATABASE IF EXISTS $name WITH (FORCE)");
    $dbh->do("CREATE DATABASE $name TEMPLATE template0 ENCODING 'UTF8' "
             . "LC_COLLATE 'C' LC_CTYPE 'C'");
    $dbh->disconnect;
}

# db_dbh([FILE or PARAMS, FRESH]): the registry's database (one shared
# handle), or another one (.../stale.db: the stale database).
my $dbh;
sub db_dbh {
    my ($file, $fresh) = @_;
    if (my $pg = $ENV{CR_TEST_PG}) {
        my $params = !defined $file ? $pg
                   : $file =~ /stale/ ? pg_stale($pg)
                   : $file =~ /=/ ? $file : $pg;
        return pg_connect($params) if $fresh || $params ne $pg;
        return $dbh ||= pg_connect($params);
    }
    $file //= t_dir() . '/var/registry.db';
    return DBI->connect("dbi:SQLite:dbname=$file", '', '',
                        { RaiseError => 1, sqlite_open_flags => 1,
                          AutoCommit => 1 }) if $fresh || $file !~ /registry/;
    $dbh ||= DBI->connect("dbi:SQLite:dbname=$file", '', '',
                          { RaiseError => 1, AutoCommit => 1 });
    $dbh->sqlite_busy_timeout(10000);
    return $dbh;
}

# The registry's tables (cr_...), sorted.
sub db_tables {
    return db_dbh()->selectcol_arrayref($ENV{CR_TEST_PG}
        ? q{SELECT table_name FROM information_schema.tables WHERE }
          . q{table_schema = current_schema() AND table_name LIKE 'cr\_%' }
          . q{ESCAPE '\' ORDER BY 1}
        : q{SELECT name FROM sqlite_master WHERE type = 'table' }
          . q{AND name LIKE 'cr\_%' ESCAPE '\' ORDER BY name});
}

# The shell command running cr-admin COMMAND on the registry's database.
sub cr_admin_cmd {
    my $cmd = shift;
    my $top = Apache::Test::vars('top_dir');
    return "$top/cr-admin --driver pgsql $cmd '$ENV{CR_TEST_PG}'"
        if $ENV{CR_TEST_PG};
    return "$top/cr-admin $cmd " . t_dir() . '/var/registry.db';
}

sub db_row  { my ($sql, @b) = @_; db_dbh()->selectrow_hashref($sql, undef, @b) }
sub db_rows { my ($sql, @b) = @_; db_dbh()->selectall_arrayref($sql, { Slice => {} }, @b) }

# Stop the test server and wait until its port is free (the old children
# may still be finishing a delivery attempt), so that it can start again.
sub server_stop {
    Apache::Test::config()->server->stop;
    my $port = Apache::Test::config()->{vars}{port};
    for (1 .. 150) {
        last unless IO::Socket::INET->new(PeerAddr => 'localhost',
                                          PeerPort => $port, Timeout => 1);
        select(undef, undef, undef, 0.1);
    }
}

# A raw HTTP/1.1 exchange with the test server, for requests LWP will not
# send (odd headers, bodies cut short): the parsed response, 599 when the
# server answered nothing.
sub raw_request {
    my $req = shift;
    my ($host, $port) = split /:/, Apache::TestRequest::hostport();
    my $sock = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port,
                                     Proto => 'tcp', Timeout => 10)
        or die "set-up: connect: $!";
    binmode $sock;
    my $resp = '';
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        local $SIG{PIPE} = 'IGNORE';
        alarm 20;
        my $off = 0;
        while ($off < length $req) {
            my $w = syswrite $sock, $req, 65536, $off;
            last unless $w;     # the server may close before reading all
            $off += $w;
        }
        while (1) {
            my $r = sysread $sock, my $buf, 65536;
            last unless $r;
            $resp .= $buf;
        }
        alarm 0;
    };
    alarm 0;
    close $sock;
    return HTTP::Response->parse($resp =~ /^HTTP/ ? $resp
                                 : "HTTP/1.1 599 no response\r\n\r\n");
}

1;
