# POST [base]/Patient/$RevisePatient (operations.md 4): create by an
# unknown SRI, update by a known one, an attribute missing from the
# snapshot ends (period.end) for that source, a second source linked by a
# sure match (existing PHN found), by PHN, PHN-bound sources, If-Match
# and concurrent revises of one person, the sender check (issue 7) and
# every rejection.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 57;

my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my $viha = sprintf(SRI_SYS, 'viha-north');
my $iha = sprintf(SRI_SYS, 'iha-mt');
my %U = (UserId => 'ig.samples@cgi.com');
my $BP = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-business-period-extension';

sub snap {
    my %o = @_;
    return { resourceType => 'Patient',
             ($o{no_start} ? () : (extension => [ { url => $BP,
                 valuePeriod => { start => $o{start} // '2024-02-02' } } ])),
             identifier => $o{ids},
             name => [ { use => 'official', family => "Revfam$tok",
                         given => ['Maria', 'Jo'] } ],
             gender => 'female', birthDate => '1975-06-07',
             ($o{no_phone} ? () : (telecom => [ { system => 'phone',
                 value => '2505550199', use => 'home' } ])),
             address => $o{address} // [ { type => 'physical',
                 line => ['12 Oak Bay Ave'], city => 'Victoria',
                 state => 'BC', postalCode => 'V8R1A1', country => 'CA' } ],
             %{ $o{extra} || {} } };
}
sub revise {
    my ($p, %h) = @_;
    my $params = delete $h{params};
    return op_post('RevisePatient', bc_request(
        ($params ? (params => $params) : ()), patient => $p), %U, %h);
}
sub sri { my ($sys, $v) = @_; { use => 'official', system => $sys,
                                value => $v } }

# ---- create, then update --------------------------------------------------
my $res = revise(snap(ids => [ sri($fha, "A$tok") ], start => '2024-01-01'));
is($res->code, 201, 'CR-REV-002: unknown SRI, no PHN: creates (201)');
my $b = json_of($res);
is_deeply([ issues_of($b) ], ['information business-rule BCHCIM.RP.0.0000'],
          'CR-REV-002: BCHCIM.RP.0.0000');
my ($p) = patients_of($b);
my $id = $p->{id};
my ($phn) = map { $_->{value} } grep { $_->{system} eq PHN_SYS }
            @{ $p->{identifier} };
like($phn // '', qr/^9\d{9}$/, 'CR-REV-002: a new PHN');

$res = revise(snap(ids => [ sri($fha, "A$tok") ], start => '2024-03-01',
                   no_phone => 1));
is($res->code, 200, 'CR-REV-003: known SRI: updates (200)');
is_deeply([ issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.RP.0.0021'],
          'CR-REV-003: BCHCIM.RP.0.0021');
($p) = patients_of(json_of($res));
ok(!$p->{telecom}, 'CR-REV-004: the phone missing from the snapshot is no '
   . 'longer current');
my $tel = db_row("SELECT period_end, ended_at FROM cr_attribute WHERE "
                 . "patient_id = ? AND kind = 'telecom'", $id);
is($tel->{period_end}, '2024-03-01', 'CR-REV-004: the phone\'s business '
   . 'period ends at the revise\'s effective date');
ok($tel->{ended_at}, 'CR-REV-004: the attribute row was kept (history)');
is(db_row("SELECT COUNT(*) AS n FROM cr_attribute WHERE patient_id = ? AND "
          . "kind = 'name'", $id)->{n}, 1,
   'CR-REV-004: an unchanged name is not written again');
# GetDemographics with history shows the ended phone.
$res = op_post('GetDemographics', bc_request(
    params => [ { name => 'messageId', valueString => "gd$tok" },
                { name => 'history', valueBoolean => JSON::PP::true } ],
    patient => { resourceType => 'Patient',
                 identifier => [ { system => PHN_SYS, value => $phn } ] }),
    %U);
my ($gd) = patients_of(json_of($res));
is_deeply([ map { $_->{value} } grep { $_->{period}{end} }
            @{ $gd->{telecom} || [] } ], ['2505550199'],
          'CR-REV-004: GetDemographics with history returns the ended phone');
is(db_row('SELECT version_id FROM cr_patient WHERE id = ?', $id)->{version_id},
   2, 'CR-REV-006: a new version per revise');

# ---- a second source: sure match ------------------------------------------
$res = revise(snap(ids => [ sri($viha, "B$tok") ], no_phone => 1));
is($res->code, 200, 'CR-REV-003: a second source\'s record of the same '
   . 'person, no PHN: 200');
is_deeply([ issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.RP.0.0001'],
          'CR-REV-003: existing PHN found (BCHCIM.RP.0.0001)');
($p) = patients_of(json_of($res));
is($p->{id}, $id, 'CR-REV-003: linked to the existing person');
is(db_row('SELECT COUNT(*) AS n FROM cr_source_record WHERE patient_id = ?',
          $id)->{n}, 3, 'CR-REV-003: registry + two source records');

# ---- a probable match: created, reported, listed for review (issue 6) ----
# A sister: same family, birth date, phone and address, another first
# name.  Only a certain match links; this one is probable at most.
my $sis = snap(ids => [ sri($viha, "S$tok") ]);
$sis->{name} = [ { use => 'official', family => "Revfam$tok",
                   given => ['Lucia'] } ];
$res = revise($sis);
is($res->code, 201, 'CR-REV-002: a probable match is not linked: a new '
   . 'client (201)');
is_deeply([ issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.RP.0.0000',
           'warning business-rule BCHCIM.RP.1.0164'],
          'issue 6: the probable match is reported (BCHCIM.RP.1.0164)');
my ($sp) = patients_of(json_of($res));
isnt($sp->{id}, $id, 'issue 6: a client of her own');
my $pair = db_row('SELECT grade, status, found_by FROM cr_match_duplicate '
                  . 'WHERE (patient_lo = ? AND patient_hi = ?) OR '
                  . '(patient_lo = ? AND patient_hi = ?)',
                  $id, $sp->{id}, $sp->{id}, $id);
is_deeply($pair, { grade => 'probable', status => 'open',
                   found_by => 'revise' },
          'issue 6: the pair is on the review list, open, graded probable');

# ---- by PHN ------------------------------------------------------------------
$res = revise(snap(ids => [ sri($iha, "C$tok"),
                            { system => PHN_SYS, value => $phn } ],
                   extra => { name => [ { use => 'usual',
                       family => "Other$tok", given => ['Mia'] } ] }));
is($res->code, 200, 'CR-REV-005: a new SRI with a known PHN: 200');
($p) = patients_of(json_of($res));
is($p->{id}, $id, 'CR-REV-005: linked by PHN');
is(scalar(@{ $p->{name} }), 2, 'CR-REV-005, CR-REV-006: the composite lists both '
   . 'sources\' names');

# ---- PHN-bound source (HIBC) without SRI ----------------------------------
my @hibc = (params => [ { name => 'messageId', valueString => "h$tok" },
                        { name => 'sender', valueIdentifier => {
                            system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
                            value => 'HIBC' } } ]);
$res = revise(snap(ids => [ { system => PHN_SYS, value => $phn } ]), @hibc);
is($res->code, 200, 'CR-REV-011: a PHN-bound source (HIBC) by PHN only: 200');
$res = revise(snap(ids => [ { system => PHN_SYS, value => $phn } ]));
is($res->code, 422, 'CR-REV-010: no SRI from a source that is not '
   . 'PHN-bound: 422');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0145'],
          'CR-REV-010: BCHCIM.RP.2.0145');

# ---- rejections ---------------------------------------------------------------
my $before = db_snapshot();
my $bad = $phn;
substr($bad, 9, 1) = (substr($bad, 9, 1) + 1) % 10;
for my $c (
  [ 'CR-REV-012: PHN check digit', snap(ids => [ sri($fha, "D$tok"),
        { system => PHN_SYS, value => $bad } ]), 422, 'BCHCIM.RP.2.0141' ],
  [ 'CR-REV-009: forbidden characters in the SRI',
    snap(ids => [ sri($fha, "E$tok^x") ]), 422, 'BCHCIM.RP.2.0151' ],
  [ 'CR-REV-015: minimum data set', do { my $s = snap(ids => [
        sri($fha, "F$tok") ]); delete $s->{birthDate}; $s },
    422, 'BCHCIM.RP.2.0140' ],
  [ 'CR-REV-014: death without a PHN', snap(ids => [ sri($fha, "G$tok") ],
        extra => { deceasedDateTime => '2020-02-02',
                   name => [ { use => 'official', family => "Dead$tok",
                               given => ['Al'] } ] }),
    422, 'BCHCIM.RP.2.0144' ],
) {
    my ($name, $s, $st, $code) = @$c;
    my $r = revise($s);
    is($r->code, $st, "$name: $st");
    is_deeply(error_details(json_of($r)), [$code], "$name: $code");
}
$res = revise(snap(ids => [ sri($fha, "I$tok") ], no_start => 1));
is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
          [ 422, 'BCHCIM.RP.2.0163' ], 'CR-REV-007: no effective date: 422, '
          . 'BCHCIM.RP.2.0163');
$res = op_post('RevisePatient', bc_request(patient => snap(
    ids => [ sri($fha, "H$tok") ])));
is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
          [ 400, 'BCHCIM.RP.2.0143' ], 'CR-REV-008: no user id: 400, '
          . 'BCHCIM.RP.2.0143');
$res = op_post('RevisePatient', bc_request(patient => snap(
    ids => [ sri($fha, "J$tok") ]), related => { resourceType =>
    'RelatedPerson', patient => { reference => 'urn:uuid:x' } }), %U);
is($res->code, 400, 'CR-REV-016: a Revise Bundle with a RelatedPerson: 400');
is(db_snapshot(), $before, 'CR-TXN-001: rejected revises changed nothing');

# ---- sender check (issue 7) -------------------------------------------------
$res = fhir_post('/fhir/Patient/$RevisePatient', bc_request(
    params => [ { name => 'messageId', valueString => "s$tok" },
                { name => 'sender', valueIdentifier => {
                    system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
                    value => 'VIHA' } } ],
    patient => snap(ids => [ sri($fha, "A$tok") ])),
    module => 'mod_ssl', cert => 'client_fha', %U);
is($res->code, 403, 'CR-AUTH-020: a sender other than the authenticated '
   . 'organisation: 403');
is_deeply([ issues_of(json_of($res)) ],
          [ 'error forbidden BCHCIM.RP.2.0149@Bundle.entry[0].resource' ],
          'CR-AUTH-020: forbidden, BCHCIM.RP.2.0149');
$res = fhir_post('/fhir/Patient/$RevisePatient', bc_request(
    patient => snap(ids => [ sri($fha, "A$tok") ])),
    module => 'mod_ssl', cert => 'client_fha', %U);
is($res->code, 200, 'CR-AUTH-021: the authenticated source revises: 200');
is(params_of(json_of($res))->{sender}{value}, 'FHA',
   'CR-AUTH-021: sender is the authenticated organisation');
is(db_row('SELECT source_system, org_id FROM cr_attribute WHERE patient_id '
          . '= ? ORDER BY recorded_at DESC LIMIT 1', $id)->{org_id} // '',
   'FHA', 'CR-PROV-004: provenance from the TLS identity');

# ---- If-Match ------------------------------------------------------------------
my $v = db_row('SELECT version_id FROM cr_patient WHERE id = ?',
               $id)->{version_id};
$res = revise(snap(ids => [ sri($fha, "A$tok") ]),
              'If-Match' => 'W/"' . ($v - 1) . '"');
is($res->code, 412, 'CR-CONC-003: If-Match with an old version: 412');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0150'],
          'CR-CONC-003: BCHCIM.RP.2.0150');
$res = revise(snap(ids => [ sri($fha, "A$tok") ], start => '2024-05-05'),
              'If-Match' => qq{W/"$v"});
is($res->code, 200, 'CR-CONC-004: If-Match with the current version: 200');
$res = revise(snap(ids => [ sri($fha, "A$tok") ]), 'If-Match' => 'bogus');
is($res->code, 400, 'CR-CONC-005: malformed If-Match: 400');

# ---- concurrent revises -------------------------------------------------------
# N sources revise the person at once, each from its own record: none is
# lost.  Then N revises with the same If-Match: exactly one wins.
my $N = 8;
$v = db_row('SELECT version_id FROM cr_patient WHERE id = ?',
            $id)->{version_id};
my @codes = run_parallel($N, sub {
    my $i = shift;
    my $s = snap(ids => [ sri($iha, "P$i$tok"),
                          { system => PHN_SYS, value => $phn } ]);
    $s->{telecom} = [ { system => 'phone', value => "25055510$i$i",
                        use => 'work' } ];
    return revise($s)->code;
});
is_deeply([ sort @codes ], [ (200) x $N ], 'CR-CONC-001: concurrent revises '
          . 'of one person all succeed');
is(db_row('SELECT version_id FROM cr_patient WHERE id = ?',
          $id)->{version_id}, $v + $N, 'CR-CONC-001: one version each');
($p) = patients_of(json_of(revise(snap(ids => [ sri($fha, "A$tok") ]))));
is(db_row("SELECT COUNT(*) AS n FROM cr_attribute WHERE patient_id = ? AND "
          . "kind = 'telecom' AND period_end IS NULL AND value LIKE ?", $id,
          '%"work"%')->{n}, $N, 'CR-CONC-001: no update lost (every '
   . 'source\'s work phone is current in its own record)');
is(scalar(grep { $_->{use} eq 'work' } @{ $p->{telecom} || [] }), 1,
   'CR-PAT-009: the composite shows one current work phone of them');
$v = db_row('SELECT version_id FROM cr_patient WHERE id = ?',
            $id)->{version_id};
@codes = run_parallel($N, sub {
    my $i = shift;
    my $s = snap(ids => [ sri($fha, "A$tok") ], start => "2025-01-0$i");
    return revise($s, 'If-Match' => qq{W/"$v"})->code;
});
is(scalar(grep { $_ == 200 } @codes), 1,
   'CR-CONC-002: of concurrent revises with one If-Match exactly one wins');
is(scalar(grep { $_ == 412 } @codes), $N - 1,
   'CR-CONC-002: the others get 412');

# ---- a REST update of a person built from source records --------------------
# The next revise rebuilds the person from the source records: what a
# plain FHIR PUT wrote must survive it (it becomes the registry's own
# source record).
{
    my $ptok = unique_token();
    my $psri = sri($fha, "U$ptok");
    my %who = (extra => { name => [ { use => 'official',
                                      family => "Putfam$ptok",
                                      given => ['Ines'] } ],
                          birthDate => '1988-02-03' });
    my $r = revise(snap(ids => [ $psri ], start => '2024-05-05', %who));
    is($r->code, 201, 'PUT then revise: the person is created by a revise');
    my ($pp) = patients_of(json_of($r));
    my $g = fhir_get("/fhir/Patient/$pp->{id}");
    my $cur = json_of($g);
    push @{ $cur->{telecom} }, { system => 'email', value => "put$ptok\@example.org" };
    my $put = fhir_put("/fhir/Patient/$pp->{id}", $cur,
                       'If-Match' => $g->header('ETag'));
    is($put->code, 200, 'PUT then revise: the plain FHIR update: 200');
    $r = revise(snap(ids => [ $psri ], start => '2024-06-06', %who));
    is($r->code, 200, 'PUT then revise: the source revises again: 200');
    my $after = json_of(fhir_get("/fhir/Patient/$pp->{id}"));
    is_deeply([ map { $_->{value} } grep { $_->{system} eq 'email' }
                @{ $after->{telecom} || [] } ], [ "put$ptok\@example.org" ],
              'PUT then revise: the e-mail the PUT added is still current');
    is(db_row("SELECT source_system FROM cr_attribute WHERE patient_id = ? "
              . "AND kind = 'telecom' AND value LIKE ?", $pp->{id},
              "%put$ptok%")->{source_system}, 'MOH_CRS',
       'PUT then revise: kept as the registry\'s own source record');
}

sub run_parallel {
    my ($n, $fn) = @_;
    my @pids;
    my $dir = t_dir() . "/var";
    for my $i (1 .. $n) {
        my $pid = fork();
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            my $code = eval { $fn->($i) } // 0;
            open my $fh, '>', "$dir/par.$$" or POSIX::_exit(1);
            print $fh $code;
            close $fh;
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    my @out;
    for my $pid (@pids) {
        waitpid $pid, 0;
        open my $fh, '<', "$dir/par.$pid" or next;
        push @out, scalar <$fh>;
        close $fh;
        unlink "$dir/par.$pid";
    }
    return @out;
}
use POSIX ();
