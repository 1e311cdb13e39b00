# Rules of the newest IG generation (issue 14): CR-PAT-009 (one current
# name per use, phone and e-mail per telecom use, address per type; the
# older one ended), CR-ASYNC-004 (an .Async request is checked with its
# own operation's rules before the 202), CR-GEN-009 (every answer of a
# Bundle-based operation is a Bundle: 405, the 403 of Require, 503),
# CR-PARAM-002 (non-boolean flags: 400).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 38;

my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my $iha = sprintf(SRI_SYS, 'iha-mt');
my %U = (UserId => 'rules@test');
my $BP = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-business-period-extension';

sub snap {
    my %o = @_;
    return { resourceType => 'Patient',
             extension => [ { url => $BP,
                 valuePeriod => { start => $o{start} // '2024-02-02' } } ],
             identifier => $o{ids},
             name => $o{names} // [ { use => 'official',
                 family => "Rulefam$tok", given => ['Maria'] } ],
             gender => 'female', birthDate => '1975-06-07',
             telecom => $o{telecom} // [ { system => 'phone',
                 value => '2505550199', use => 'home' } ],
             address => $o{address} // [ { type => 'physical',
                 line => ['12 Oak Bay Ave'], city => 'Victoria',
                 state => 'BC', postalCode => 'V8R1A1', country => 'CA' } ] };
}
sub revise {
    my ($p, %h) = @_;
    return op_post('RevisePatient', bc_request(patient => $p), %U, %h);
}
sub sri { { use => 'official', system => $_[0], value => $_[1] } }
sub current {
    my ($p, $member, $test) = @_;
    return grep { $test->($_) && !($_->{period} && $_->{period}{end}) }
           @{ $p->{$member} || [] };
}

# ---- CR-PAT-009 in one request ---------------------------------------------
my $res = revise(snap(ids => [ sri($fha, "P$tok") ],
    names => [ { use => 'official', family => "Rulefam$tok",
                 given => ['Old'], period => { start => '2020-01-01' } },
               { use => 'official', family => "Rulefam$tok",
                 given => ['New'], period => { start => '2023-05-01' } } ],
    telecom => [ { system => 'phone', use => 'home', value => '2505550101',
                   period => { start => '2023-01-01' } },
                 { system => 'phone', use => 'home', value => '2505550102',
                   period => { start => '2019-01-01' } },
                 { system => 'email', use => 'home', value => "a$tok\@x.ca" } ],
    address => [ { type => 'physical', line => ['1 Old Rd'], city => 'Victoria',
                   state => 'BC', country => 'CA',
                   period => { start => '2018-01-01' } },
                 { type => 'physical', line => ['2 New Rd'], city => 'Victoria',
                   state => 'BC', country => 'CA',
                   period => { start => '2022-01-01' } } ]));
is($res->code, 201, 'CR-PAT-009, CR-GEN-020, CR-GEN-029: a Revise (no messageDateTime) creating a client with two current values per use: 201');
my ($p) = patients_of(json_of($res));
my $id = $p->{id};
is_deeply([ map { $_->{given}[0] } current($p, 'name',
                                           sub { $_[0]{use} eq 'official' }) ],
          ['New'], 'CR-PAT-009: one current official name, the newer');
is_deeply([ map { $_->{value} } current($p, 'telecom',
              sub { $_[0]{system} eq 'phone' && $_[0]{use} eq 'home' }) ],
          ['2505550101'], 'CR-PAT-009: one current home phone, the newer');
is(scalar(current($p, 'telecom', sub { $_[0]{system} eq 'email' })), 1,
   'CR-PAT-009: the home e-mail is another group: kept');
is_deeply([ map { $_->{line}[0] } current($p, 'address',
              sub { $_[0]{type} eq 'physical' }) ],
          ['2 New Rd'], 'CR-PAT-009: one current physical address, the newer');
is_deeply(db_rows("SELECT value, period_end FROM cr_attribute WHERE "
                  . "patient_id = ? AND kind = 'name' AND period_end IS NOT "
                  . "NULL", $id)->[0]{period_end}, '2023-05-01',
          'CR-PAT-009: stored: the older name ended where the newer starts');
is(db_row("SELECT period_end FROM cr_attribute WHERE patient_id = ? AND "
          . "kind = 'telecom' AND value LIKE ?", $id, '%2505550102%')
   ->{period_end}, '2023-01-01', 'CR-PAT-009: stored: the older phone ended');

# ---- CR-PAT-009 across sources: the newest value of a use wins ------------
my ($phn) = map { $_->{value} } grep { $_->{system} eq PHN_SYS }
            @{ $p->{identifier} };
$res = revise(snap(ids => [ sri($iha, "Q$tok"),
                            { system => PHN_SYS, value => $phn } ],
                   start => '2025-01-01',
                   names => [ { use => 'official', family => "Rulefam$tok",
                                given => ['Newest'] } ],
                   telecom => [ { system => 'phone', use => 'home',
                                  value => '2505550103' } ]));
is($res->code, 200, 'CR-PAT-009, CR-GEN-029: a second source revises the client: 200');
($p) = patients_of(json_of($res));
is($p->{id}, $id, 'CR-PAT-009: the same client (by PHN)');
is_deeply([ map { $_->{given}[0] } current($p, 'name',
                                           sub { $_[0]{use} eq 'official' }) ],
          ['Newest'], 'CR-PAT-009: one current official name across sources, '
          . 'the newest');
is_deeply([ map { $_->{value} } current($p, 'telecom',
              sub { $_[0]{system} eq 'phone' && $_[0]{use} eq 'home' }) ],
          ['2505550103'], 'CR-PAT-009: one current home phone across sources');
# With history, the superseded value is an ended repeat.
$res = op_post('GetDemographics', bc_request(
    params => [ { name => 'messageId', valueString => "gd$tok" },
                { name => 'history', valueBoolean => JSON::PP::true } ],
    patient => { resourceType => 'Patient',
                 identifier => [ { system => PHN_SYS, value => $phn } ] }),
    %U);
is($res->code, 200, 'CR-PAT-009: $GetDemographics with history: 200');
($p) = patients_of(json_of($res));
my @ended = grep { $_->{use} eq 'official' && $_->{period}
                   && $_->{period}{end} } @{ $p->{name} };
ok(scalar(grep { $_->{given}[0] eq 'New' } @ended),
   'CR-PAT-009: the older official name is returned ended (period.end)');
is(scalar(current($p, 'name', sub { $_[0]{use} eq 'official' })), 1,
   'CR-PAT-009: with history still one current official name');

# ---- CR-ASYNC-004: an .Async request gets its own operation's checks ------
my $cb = [ { name => 'sender', valueIdentifier => {
    system => 'http://hlth.gov.bc.ca/fhir/client/bc-org', value => 'CBTEST' } } ];
sub async_body {
    my ($mid, $p, @more) = @_;
    return bc_request(params => [ { name => 'messageId', valueString => $mid },
                                  @$cb ], patient => $p, entries => \@more);
}
sub job_count {
    db_row('SELECT COUNT(*) AS n FROM cr_async_job WHERE message_id = ?',
           $_[0])->{n};
}
# A Revise has exactly two entries (CR-BND-004); AddPatient's rules allowed
# a third (a RelatedPerson), so this was acknowledged and failed later.
my $mid = "async-rel-$tok";
$res = op_post('RevisePatient.Async', async_body($mid,
    snap(ids => [ sri($fha, "AS$tok") ]),
    { resourceType => 'RelatedPerson', relationship => [ { coding => [ {
        system => 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
        code => 'NMTH' } ] } ] }), %U);
is($res->code, 400, 'CR-ASYNC-004: $RevisePatient.Async with a RelatedPerson '
   . '(Revise: 2 entries): 400, not 202');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0105', 'BCHCIM.RP.2.0110'],
          'CR-ASYNC-004: BCHCIM.RP.2.0105, 0110 (entry count, RelatedPerson), '
          . 'Revise\'s rules');
is(job_count($mid), 0, 'CR-ASYNC-004: stored: nothing queued');
# A business rule of Revise: the root effective date (CR-REV-007).
$mid = "async-eff-$tok";
my $ne = snap(ids => [ sri($fha, "AE$tok") ]);
delete $ne->{extension};
$res = op_post('RevisePatient.Async', async_body($mid, $ne), %U);
is($res->code, 422, 'CR-ASYNC-004: $RevisePatient.Async without the root '
   . 'effective date: 422, not 202');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0163'],
          'CR-ASYNC-004: BCHCIM.RP.2.0163');
is(job_count($mid), 0, 'CR-ASYNC-004: stored: nothing queued');
# A PHN failing its check digit on AddPatient.Async (CR-ADD-005).
$mid = "async-phn-$tok";
$res = op_post('AddPatient.Async', async_body($mid, snap(ids => [
    sri($fha, "AP$tok"), { system => PHN_SYS, value => '9999999999' } ])),
    %U);
is($res->code, 422, 'CR-ASYNC-004: $AddPatient.Async with a bad PHN: 422');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0141'],
          'CR-ASYNC-004: BCHCIM.RP.2.0141');
is(job_count($mid), 0, 'CR-ASYNC-004: stored: nothing queued');
# A valid one is still acknowledged.
$mid = "async-ok-$tok";
$res = op_post('RevisePatient.Async', async_body($mid,
    snap(ids => [ sri($fha, "AO$tok") ])), %U);
is($res->code, 202, 'CR-ASYNC-004: a valid $RevisePatient.Async: 202');
is_deeply([ issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.RP.0.0007'],
          'CR-ASYNC-004: only the acknowledgement issue (BCHCIM.RP.0.0007)');
is(job_count($mid), 1, 'CR-ASYNC-004: stored: queued once');

# ---- CR-GEN-009: every answer of a BC operation is a Bundle ----------------
sub bundle_oo {
    my $res = shift;
    my $b = json_of($res) || {};
    my @oo = entries_of($b, 'OperationOutcome');
    return join ' ', $b->{resourceType} // '-', $b->{type} // '-',
           scalar(@oo), map { $_->{resource}{issue}[0]{code} } @oo;
}
$res = fhir_get('/fhir/Patient/$AddPatient');
is($res->code, 405, 'CR-GEN-009: GET on $AddPatient: 405');
is(bundle_oo($res), 'Bundle collection 1 not-supported',
   'CR-GEN-009: the 405 is a Bundle with one OperationOutcome');
is($res->header('Allow'), 'POST', 'CR-GEN-001: Allow: POST');
$res = fhir_request('POST', '/fhir/Patient/$AddPatient',
                    bc_request(patient => snap(ids => [])), module => 'stale',
                    %U);
is($res->code, 503, 'CR-GEN-009, CR-GEN-032: database of an unknown schema: 503');
is(bundle_oo($res), 'Bundle collection 1 transient',
   'CR-GEN-009, CR-GEN-032: the 503 is a Bundle (transient)');
$res = fhir_request('POST', '/fhir/Patient/$match',
                    { resourceType => 'Parameters' }, module => 'stale');
is(json_of($res)->{resourceType}, 'OperationOutcome',
   'CR-GEN-009: a FHIR-style operation ($match) keeps its OperationOutcome');
SKIP: {
    skip 'mod_ssl is not available', 3
        unless Apache::Test::have_module('mod_ssl');
    $res = fhir_request('POST', '/fhir-secure/Patient/$AddPatient',
                        bc_request(patient => snap(ids => [])),
                        module => 'mod_ssl', cert => 'client_fha', %U);
    is($res->code, 403, 'CR-GEN-009: a write by a read-only client '
       . '(Require clientregistry-operation): 403');
    is(bundle_oo($res), 'Bundle collection 1 forbidden',
       'CR-GEN-009: the 403 of Require is a Bundle (forbidden)');
    like($res->header('Content-Type') // '', qr{^application/fhir\+json},
         'CR-GEN-009: ... sent as application/fhir+json');
}

# ---- CR-PARAM-002: flags must be booleans ----------------------------------
for my $flag ('history', 'withHistory', 'identifiersOnly') {
    $res = op_post('GetDemographics', bc_request(
        params => [ { name => 'messageId', valueString => "pf$tok" },
                    { name => $flag, valueString => 'true' } ],
        patient => { resourceType => 'Patient',
                     identifier => [ { system => PHN_SYS, value => $phn } ] }),
        %U);
    is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
              [ 400, 'BCHCIM.GD.2.0108' ],
              "CR-PARAM-002: $flag as a string: 400, BCHCIM.GD.2.0108");
}
