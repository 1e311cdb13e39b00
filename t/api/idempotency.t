# Idempotent messageId (CR-PARAM-004, ops/cr_idem.c): a request repeating
# a messageId its sender already had processed gets the original answer
# (status and body) without the work being done again -- for the
# synchronous maintenance operations and for the .Async forms (the
# original 202 and job); the same messageId with a different request is
# refused with 422 BCHCIM.RP.2.0440; another sender's messageIds are its
# own; a replay passes through the output policy of the caller replaying.
# The concurrent case is t/concurrency/idempotency.t, the restart
# t/persistence/idempotency_restart.t.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 33;

my $tok = unique_token();
my $sri = sprintf(SRI_SYS, 'viha-north');
my %U = (UserId => 'idem@test');
my $BP = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-business-period-extension';

sub person {
    my %o = @_;
    return { resourceType => 'Patient',
             ($o{label} ? (meta => { security => [ {
                 system => 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
                 code => $o{label} } ] }) : ()),
             extension => [ { url => $BP,
                              valuePeriod => { start => '2024-01-01' } } ],
             identifier => [ { use => 'official', system => $sri,
                               value => $o{sri} } ],
             name => [ { use => 'usual', family => $o{family} // "Idemfam$tok",
                         given => [ $o{given} // 'Ann' ] } ],
             gender => 'female', birthDate => '1980-02-03',
             address => [ { type => 'physical', line => ['1 Main St'],
                            city => 'Victoria', state => 'BC',
                            country => 'CA' } ] };
}
# The same arguments make the same request (fixed fullUrls).
sub fixed {
    my $b = shift;
    my $i = 0;
    $_->{fullUrl} = sprintf('urn:uuid:00000000-0000-4000-8000-%012d', ++$i)
        for @{ $b->{entry} };
    return $b;
}
sub body {
    my ($mid, %o) = @_;
    return fixed(bc_request(params => [ { name => 'messageId',
                                          valueString => $mid },
                                        @{ $o{params} || [] } ],
                            patient => person(%o)));
}
sub count { db_row(@_)->{n} }
my $by_family = 'SELECT COUNT(*) AS n FROM cr_search_index WHERE kind = '
                . "'family' AND value = ?";

# ---- a synchronous write, repeated -----------------------------------------
my $mid = "idem-add-$tok";
my $res = op_post('AddPatient', body($mid, sri => "IA$tok"), %U);
is($res->code, 201, 'CR-PARAM-004: first $AddPatient: 201');
my $first = json_of($res);
my ($pat) = patients_of($first);
my $loc = $res->header('Location');
is(count('SELECT COUNT(*) AS n FROM cr_patient WHERE id = ?', $pat->{id}), 1,
   'CR-PARAM-004: the client is stored');
my $versions = count('SELECT COUNT(*) AS n FROM cr_patient_version');
my $audits = count('SELECT COUNT(*) AS n FROM cr_audit WHERE '
                   . "operation = 'AddPatient' AND status = 201");

$res = op_post('AddPatient', body($mid, sri => "IA$tok"), %U);
is($res->code, 201, "CR-PARAM-004: the repeat: the original status 201") or diag $res->content;
is_deeply(json_of($res), $first,
          'CR-PARAM-004: the repeat: the original body, byte for byte the '
          . 'same Bundle (same response messageId, same Patient)');
is($res->header('Location'), $loc, 'CR-PARAM-004: the repeat: the original '
   . 'Location');
is(count('SELECT COUNT(*) AS n FROM cr_patient_version'), $versions,
   'CR-PARAM-004: the repeat did no work (no new version anywhere)');
is(count($by_family, lc "Idemfam$tok"), 1,
   'CR-PARAM-004: still one client of that family');
is(count('SELECT COUNT(*) AS n FROM cr_audit WHERE '
         . "operation = 'AddPatient' AND status = 201"), $audits,
   'CR-PARAM-004: no second write audited (the repeat is a read)');
my $row = db_row('SELECT * FROM cr_idempotency WHERE message_id = ?', $mid);
is($row->{status}, 201, 'CR-PARAM-004: stored: the answer\'s status');
like($row->{sender}, qr/^claimed:/, 'CR-PARAM-004: stored: keyed by the '
     . 'sender (unauthenticated: the sender the request names)');
is($row->{operation}, 'AddPatient', 'CR-PARAM-004: stored: the operation');

# Member order and white space do not make another request: the
# canonical JSON is compared.
my $text = JSON::PP->new->utf8->pretty
    ->sort_by(sub { $JSON::PP::b cmp $JSON::PP::a })
    ->encode(body($mid, sri => "IA$tok"));
$res = op_post('AddPatient', $text, %U);
is($res->code, 201, 'CR-PARAM-004: the same request, members in reverse '
   . 'order and pretty-printed: the original 201');
is_deeply(json_of($res), $first, 'CR-PARAM-004: ... and the original body');

# ---- the same messageId, another request -----------------------------------
$res = op_post('AddPatient', body($mid, sri => "IA$tok", given => 'Other'),
               %U);
is($res->code, 422, 'CR-PARAM-004: same messageId, different body: 422');
my $b = json_of($res);
is($b->{resourceType}, 'Bundle', 'CR-GEN-009: the refusal is a Bundle');
is_deeply(error_details($b), ['BCHCIM.RP.2.0440'],
          'CR-PARAM-004: BCHCIM.RP.2.0440');
is(count($by_family, lc "Idemfam$tok"), 1,
   'CR-PARAM-004: the refused request stored nothing');
$res = op_post('RevisePatient', body($mid, sri => "IA$tok"), %U);
is($res->code, 422, 'CR-PARAM-004: same messageId for another operation: '
   . '422');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0440'],
          'CR-PARAM-004: ... BCHCIM.RP.2.0440');
$res = op_post('AddPatient', body($mid, sri => "IA$tok"),
               UserId => 'someone.else@test');
is($res->code, 422, 'CR-PARAM-004: same messageId from another user of the '
   . 'sender: 422 (the user is part of the request)');

# ---- a rejected request is not remembered ----------------------------------
my $rmid = "idem-rej-$tok";
my $bad = body($rmid, sri => "IR$tok");
$bad->{entry}[1]{resource}{identifier} = [ { use => 'official',
    system => PHN_SYS, value => '9999999999' } ];
$res = op_post('AddPatient', $bad, %U);
is($res->code, 422, 'CR-PARAM-004: a rejected request (bad PHN): 422');
is(count('SELECT COUNT(*) AS n FROM cr_idempotency WHERE message_id = ?',
         $rmid), 0, 'CR-PARAM-004: a rejection claims no messageId');
$res = op_post('AddPatient', body($rmid, sri => "IR$tok"), %U);
is($res->code, 201, 'CR-PARAM-004: the corrected request with the same '
   . 'messageId is processed: 201');

# ---- another sender: its own messageIds ------------------------------------
SKIP: {
    skip 'mod_ssl is not available', 6
        unless Apache::Test::have_module('mod_ssl');
    my %viha = (module => 'mod_ssl', cert => 'client_viha', %U);
    my %moh = (module => 'mod_ssl', cert => 'client_admin', %U);
    my $smid = "idem-sender-$tok";
    my $secret = "Secretfam$tok";
    $res = fhir_post('/fhir-secure/Patient/$AddPatient',
                     body($smid, sri => "IS$tok", family => $secret,
                          label => 'R'), %viha);
    is($res->code, 201, 'CR-PARAM-004: VIHA adds a restricted client: 201');
    ok(index($res->content, $secret) < 0, 'operations.md 0.7: its answer '
       . 'is masked for VIHA (not privileged)');
    like(db_row('SELECT body FROM cr_idempotency WHERE message_id = ?',
                $smid)->{body} // '', qr/\Q$secret\E/,
         'CR-PARAM-004: the stored answer is the one built (unmasked)');
    $res = fhir_post('/fhir-secure/Patient/$AddPatient',
                     body($smid, sri => "IS$tok", family => $secret,
                          label => 'R'), %viha);
    ok($res->code == 201 && index($res->content, $secret) < 0
       && index($res->content, '"masked"') >= 0,
       'CR-PARAM-004: the replay passes the output policy: masked again');
    # MOH repeats VIHA's messageId with its own request: not VIHA's
    # answer and no mismatch -- MOH's messageIds are its own.
    $res = fhir_post('/fhir-secure/Patient/$AddPatient',
                     body($smid, sri => "IM$tok", family => "Moh$tok"),
                     %moh);
    is($res->code, 201, 'CR-PARAM-004: another sender with the same '
       . 'messageId and another body: processed (201), not refused');
    is(count('SELECT COUNT(*) AS n FROM cr_idempotency WHERE message_id = ?',
             $smid), 2, 'CR-PARAM-004: stored: one answer per sender');
}

# ---- async: the original 202 and job ---------------------------------------
my $amid = "idem-async-$tok";
my $abody = bc_request(params => [
    { name => 'messageId', valueString => $amid },
    { name => 'sender', valueIdentifier => {
        system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
        value => 'CBTEST' } } ],
    patient => person(sri => "IY$tok", family => "Idemasync$tok"));
$res = op_post('AddPatient.Async', $abody, %U);
is($res->code, 202, 'CR-PARAM-004: $AddPatient.Async: 202');
my $ack = json_of($res);
$res = op_post('AddPatient.Async', $abody, %U);
is($res->code, 202, 'CR-PARAM-004: the repeat of an async request: 202');
is_deeply(json_of($res), $ack, 'CR-PARAM-004: ... the original '
          . 'acknowledgement');
is(count('SELECT COUNT(*) AS n FROM cr_async_job WHERE message_id = ?',
         $amid), 1, 'CR-PARAM-004: one job queued, not two');
