# Change-notification events (profiles.md 7.3, docs/notifications.md):
# each event code from the write that causes it, read from the outbox
# (cr_outbox) the write filled in its own transaction -- RESTful create and
# update, $AddPatient (CR-ADD-018, newborn), $RevisePatient (CR-REV-020),
# $PartialUpdatePatient, $MergePatient and $UnmergePatient (CR-MRG-018),
# $RevisePatient.Async -- with the version each event names; the fan-out to
# the subscriptions of the code only (CR-NOT-009, CR-TERM-002); and no
# event from a write that was refused or rolled back.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use CR::Test;
use CR::BC;
use Time::HiRes qw(sleep);

plan tests => 52;

my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my $child = sprintf(SRI_SYS, 'fha-arh');
my %U = (UserId => 'ig.samples@cgi.com');
my $FILTER = 'http://hl7.org/fhir/uv/subscriptions-backport/'
           . 'StructureDefinition/backport-filter-criteria';

# "CODE:version:operation" of the events of a client, in outbox order.
sub events {
    my $pid = shift;
    return join ' ', map { "$_->{event_code}:$_->{patient_version}:"
                           . "$_->{operation}" } @{ db_rows(
        'SELECT event_code, patient_version, operation FROM cr_outbox '
        . 'WHERE patient_id = ? ORDER BY seq', $pid) };
}
sub last_seq { db_row('SELECT COALESCE(MAX(seq), 0) AS n FROM cr_outbox')->{n} }
sub subscribe {
    my $codes = shift;
    my $s = ig_fixture('Subscription-SampleCompositeSubscriptionRequest.json');
    $s->{channel}{payload} = 'application/fhir+json';
    $s->{channel}{endpoint} = 'http://127.0.0.1:9/partner';
    $s->{_criteria}{extension}[0]{valueString} = "eventCode=$codes";
    my $res = fhir_post('/fhir/Subscription', $s);
    die 'subscribe: ' . $res->content unless $res->code == 201;
    return json_of($res)->{id};
}
# The notification worker is trying these deliveries (the endpoint,
# port 9, refuses): one it holds at the moment is "sending", and after the
# test configuration's 4 attempts (about 7 s) one is "parked"; both are
# still queued for the subscription as far as this file is concerned.
sub deliveries {
    my ($sub, $pid) = @_;
    return join ' ', map { "$_->{event_code}:"
                           . ($_->{state} =~ /^(sending|parked)$/
                              ? 'queued' : $_->{state}) } @{ db_rows(
        'SELECT o.event_code, d.state FROM cr_delivery d JOIN cr_outbox o '
        . 'ON o.seq = d.event_seq WHERE d.subscription_id = ? AND '
        . 'd.patient_id = ? ORDER BY d.event_seq', $sub, $pid) };
}
sub current {
    my $id = shift;
    my $p = json_of(fhir_get("/fhir/Patient/$id"));
    delete $p->{meta};
    return $p;
}
sub put_ok {
    my ($id, $p, $name) = @_;
    my $res = fhir_put("/fhir/Patient/$id", $p);
    is($res->code, 200, "$name: 200");
}
sub revise {
    my ($sys, $sri, %o) = @_;
    return op_post('RevisePatient', bc_request(patient => {
        resourceType => 'Patient',
        extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ],
        identifier => [ { use => 'official', system => $sys, value => $sri } ],
        name => [ { use => 'official', family => $o{family} // "Event$tok",
                    given => [ $o{given} // 'Eve' ] } ],
        gender => $o{gender} // 'female', birthDate => $o{dob} // '1970-07-07',
        ($o{deceased} ? (deceasedDateTime => $o{deceased}) : ()),
        address => [ { type => 'physical', line => ['7 Event St'],
                       city => 'Duncan', state => 'BC', country => 'CA' } ],
    }), %U);
}

# Subscriptions: one to NEW and DEATH, one to COMPOSITE, one off.
my $s_new = subscribe('NEW,DEATH');
my $s_comp = subscribe('COMPOSITE');
my $s_off = subscribe('NEW');
my $off = ig_fixture('Subscription-SampleCompositeSubscriptionRequest.json');
$off->{channel}{payload} = 'application/fhir+json';
$off->{channel}{endpoint} = 'http://127.0.0.1:9/partner';
$off->{status} = 'off';
$off->{id} = $s_off;
is(fhir_put("/fhir/Subscription/$s_off", $off)->code, 200, 'setup: one off');

# ---- RESTful create and update ---------------------------------------------
my ($res, $p) = create_patient(family => "Rest$tok");
my $id = $p->{id};
is(events($id), 'NEW:1:create', 'create: NEW for version 1');
is(deliveries($s_new, $id), 'NEW:queued',
   'CR-NOT-009: queued for the subscription to NEW');
is(deliveries($s_comp, $id), '', 'CR-NOT-009: not for the one to COMPOSITE');
is(deliveries($s_off, $id), '', 'CR-NOT-009: not for the one that is off');

$p = current($id);
put_ok($id, $p, 'an update that changes nothing');
is(events($id), 'NEW:1:create', 'an update that changes nothing: no event');

$p->{gender} = 'male';
put_ok($id, $p, 'update gender');
is(events($id), 'NEW:1:create COMPOSITE:3:update',
   'update: COMPOSITE for version 3');
$p = current($id);
$p->{deceasedDateTime} = '2026-01-02';
put_ok($id, $p, 'update deceased');
is(events($id), 'NEW:1:create COMPOSITE:3:update COMPOSITE:4:update '
   . 'DEATH:4:update', 'update deceased: COMPOSITE and DEATH');
is(deliveries($s_new, $id), 'NEW:queued DEATH:queued',
   'the subscription to NEW and DEATH gets both, in order');
is(deliveries($s_comp, $id), 'COMPOSITE:queued COMPOSITE:queued',
   'the subscription to COMPOSITE gets both COMPOSITE');

$p = current($id);
push @{ $p->{identifier} }, { use => 'official', system => $fha,
                              value => "RJ$tok" };
put_ok($id, $p, 'update adding a source record identifier');
like(events($id), qr/COMPOSITE:5:update PHNJOIN:5:update$/,
     'a source record joins a client with a PHN: PHNJOIN');
$p = current($id);
push @{ $p->{identifier} }, { use => 'secondary', system => $child,
                              value => "RS$tok" };
put_ok($id, $p, 'update adding a child system\'s identifier');
like(events($id), qr/COMPOSITE:6:update SSRI:6:update$/,
     'a child system\'s record joins: SSRI');
$p = current($id);
$p->{identifier} = [ grep { $_->{system} ne $fha } @{ $p->{identifier} } ];
put_ok($id, $p, 'update removing the source record identifier');
like(events($id), qr/COMPOSITE:7:update EID:7:update$/,
     'a source record leaves the client: EID');

# ---- AddPatient (CR-ADD-018) -------------------------------------------------
my $person = sub {
    my ($sri, %o) = @_;
    return { resourceType => 'Patient',
             identifier => [ { use => 'official', system => $fha,
                               value => $sri } ],
             name => [ { use => 'usual', family => "Addev$tok",
                         given => ['Ann'] } ],
             gender => $o{gender} // 'female', birthDate => '1980-02-03',
             ($o{mother} ? () : (address => [ { type => 'physical',
                 line => ['1 Main St'], city => 'Victoria', state => 'BC',
                 country => 'CA' } ])) };
};
$res = op_post('AddPatient', bc_request(patient => $person->("AE1$tok")), %U);
is($res->code, 201, 'AddPatient: 201');
my ($ap) = patients_of(json_of($res));
is(events($ap->{id}), 'NEW:1:add', 'CR-ADD-018: AddPatient: NEW');
my $mphn = phn_of($ap);
my $nmth = { coding => [ { system =>
    'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code => 'NMTH' } ] };
$res = op_post('AddPatient', bc_request(
    patient => $person->("AE2$tok", mother => 1, gender => 'unknown'),
    related => { resourceType => 'RelatedPerson',
                 identifier => [ { use => 'official', system => PHN_SYS,
                                   value => $mphn } ],
                 patient => { reference => 'urn:uuid:x' },
                 relationship => [ $nmth ] }), %U);
is($res->code, 201, 'AddPatient newborn: 201');
my ($baby) = patients_of(json_of($res));
is(events($baby->{id}), 'NEW:1:add NEWBORN:1:add',
   'CR-ADD-018: a newborn: NEW and NEWBORN');
$p = current($baby->{id});
$p->{gender} = 'female';
put_ok($baby->{id}, $p, 'the newborn\'s gender set');
is(events($baby->{id}), 'NEW:1:add NEWBORN:1:add NEWBORN_GENDER:2:update '
   . 'COMPOSITE:2:update', 'a newborn\'s gender from unknown: '
   . 'NEWBORN_GENDER');

# ---- RevisePatient (CR-REV-020) ------------------------------------------------
$res = revise($fha, "RV$tok");
is($res->code, 201, 'RevisePatient creating: 201');
my ($rp) = patients_of(json_of($res));
my $rid = $rp->{id};
is(events($rid), 'NEW:1:add', 'RevisePatient creating: NEW (the version is '
   . 'recorded as an add)');
$res = revise($fha, "RV$tok", given => 'Evelyn');
is($res->code, 200, 'RevisePatient changing the name: 200');
is(events($rid), 'NEW:1:add COMPOSITE:2:revise',
   'CR-REV-020: a changed composite: COMPOSITE');
$res = revise($fha, "RV$tok", given => 'Evelyn', deceased => '2026-02-02');
is(events($rid), 'NEW:1:add COMPOSITE:2:revise COMPOSITE:3:revise '
   . 'DEATH:3:revise', 'CR-REV-020: a death: DEATH');
$res = revise($fha, "RV$tok", given => 'Evelyn', deceased => '2026-02-02');
is(db_row('SELECT version_id FROM cr_patient WHERE id = ?', $rid)
   ->{version_id}, 4, 'a revise that changes nothing still writes version 4');
is(events($rid), 'NEW:1:add COMPOSITE:2:revise COMPOSITE:3:revise '
   . 'DEATH:3:revise', 'a revise that changes nothing: no event');

# ---- PartialUpdatePatient --------------------------------------------------------
my $OPX = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
          . 'bc-update-patient-operation-extension';
my $OPS = 'https://terminology.hlth.gov.bc.ca/ClientRegistry/CodeSystem/'
          . 'bc-client-registry-update-patient-operation-code-system';
$res = op_post('PartialUpdatePatient', bc_request(patient => {
    resourceType => 'Patient',
    identifier => [ { system => $fha, value => "RV$tok" } ],
    telecom => [ { extension => [ { url => $OPX, valueCodeableConcept => {
        coding => [ { system => $OPS, code => 'add' } ] } } ],
        system => 'phone', value => '2505550303', use => 'work' } ] }), %U);
is($res->code, 200, 'PartialUpdatePatient: 200');
like(events($rid), qr/ COMPOSITE:5:partial-update$/,
     'PartialUpdatePatient: COMPOSITE');

# ---- MergePatient and unmerge (CR-MRG-018) ------------------------------------------
my ($ma) = patients_of(json_of(revise($fha, "MA$tok", family => "Mone$tok",
                                      given => 'Aldous', gender => 'male',
                                      dob => '1958-04-04')));
my ($mb) = patients_of(json_of(revise($fha, "MB$tok", family => "Mtwo$tok",
                                      given => 'Bertram', gender => 'male',
                                      dob => '1959-05-05')));
my $MS = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-merge-status-extension';
my $merge = bc_request(patient => {
    resourceType => 'Patient',
    identifier => [ { use => 'official', system => $fha, value => "MA$tok" } ],
    link => [ { extension => [ { url => $MS, valueCode => 'obsolete' } ],
                other => { identifier => { system => $fha,
                                           value => "MB$tok" } },
                type => 'replaces' } ] });
$res = op_post('MergePatient', $merge, %U);
is($res->code, 200, 'MergePatient: 200');
is(events($ma->{id}), 'NEW:1:add COMPOSITE:2:merge PHNMERGE:2:merge '
   . 'PHNJOIN:2:merge', 'CR-MRG-018: the survivor: PHNMERGE (and the '
   . 'non-survivor\'s source record joined it)');
is(events($mb->{id}), 'NEW:1:add COMPOSITE:2:merge PHNMERGE:2:merge',
   'CR-MRG-018: the non-survivor: PHNMERGE');
# The unmerge is a message of its own: a new messageId (the merge's
# would be a repeat of another request, CR-PARAM-004).
my $unmerge = bc_request(patient => (grep { $_->{resource}{resourceType} eq 'Patient' }
                                     @{ $merge->{entry} })[0]{resource});
$res = op_post('UnmergePatient', $unmerge, %U);
is($res->code, 200, 'UnmergePatient: 200');
like(events($ma->{id}), qr/PHNJOIN:2:merge COMPOSITE:3:unmerge EID:3:unmerge$/,
     'unmerge: the survivor loses the source record: EID');
like(events($mb->{id}), qr/PHNMERGE:2:merge COMPOSITE:3:unmerge PHN:3:unmerge$/,
     'unmerge: the restored client gets its PHN back: PHN');

# ---- async: the worker runs the same writes -----------------------------------------
my $mid = "ev-async-$tok";
$res = op_post('RevisePatient.Async', bc_request(
    params => [ { name => 'messageId', valueString => $mid },
                { name => 'sender', valueIdentifier => {
                    system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
                    value => 'CBTEST' } } ],
    patient => revise_body("AS$tok")), %U);
is($res->code, 202, '$RevisePatient.Async: 202');
my $aid;
for (1 .. 300) {   # 30 s: the worker may be busy with callbacks
    my $r = db_row('SELECT patient_id FROM cr_identifier WHERE system = ? '
                   . 'AND value = ?', $fha, "AS$tok");
    if ($r) { $aid = $r->{patient_id}; last }
    sleep 0.1;
}
is($aid && events($aid), 'NEW:1:add',
   'the async job\'s write: NEW, in its own transaction');

# ---- cr-admin load writes through the same recipe ------------------------------------
{
    my $fam = "Loaded$tok";
    my $file = t_dir() . "/var/events-load-$tok.ndjson";
    open my $fh, '>', $file or die "$file: $!";
    print $fh JSON::PP->new->canonical->encode(sample_patient(family => $fam)),
        "\n";
    close $fh;
    is(system(cr_admin_cmd('load') . " $file >/dev/null 2>&1"), 0,
       'cr-admin load: exit 0');
    unlink $file;
    my $lid = db_row("SELECT patient_id FROM cr_search_index WHERE kind = "
                     . "'family' AND value = ?", lc $fam)->{patient_id};
    is($lid && events($lid), 'NEW:1:create',
       'cr-admin load: NEW for the loaded client');
}

# ---- refused and rolled back writes leave no event ------------------------------------
my $seq = last_seq();
$p = current($id);
$res = fhir_put("/fhir/Patient/$id", { %$p, gender => 'other' },
                'If-Match' => 'W/"1"');
is($res->code, 412, 'a stale update: 412');
$res = fhir_post('/fhir/Patient', { resourceType => 'Patient',
                                    gender => 'bogus' });
is($res->code, 422, 'an invalid create: 422');
is(last_seq(), $seq, 'no event from refused writes');

# The audit record is the last statement of a write's transaction: when
# it fails (here: the audit-to-patient rows it would add are taken, a
# uniqueness conflict, which the registry treats as a race lost to a
# parallel writer: run again, then 409), the write is rolled back after
# its events were written.
$p = current($id);
my $v = db_row('SELECT version_id FROM cr_patient WHERE id = ?', $id)
        ->{version_id};
# The next audit record numbers: MAX + 1 on SQLite; on PostgreSQL they
# come from a sequence (migration 013), which rolled-back writes may have
# moved past MAX.
my $top = db_row($ENV{CR_TEST_PG}
    ? 'SELECT GREATEST((SELECT COALESCE(MAX(seq), 0) FROM cr_audit),'
      . ' (SELECT last_value FROM cr_audit_counter_n_seq)) AS n'
    : 'SELECT COALESCE(MAX(seq), 0) AS n FROM cr_audit')->{n};
db_dbh()->do('INSERT INTO cr_audit_patient (patient_id, seq) VALUES (?, ?)',
             undef, $id, $_) for $top + 1 .. $top + 200;
$res = fhir_put("/fhir/Patient/$id", { %$p, gender => 'female' });
db_dbh()->do('DELETE FROM cr_audit_patient WHERE patient_id = ? AND seq > ?',
             undef, $id, $top);
is($res->code, 409, 'an update whose audit record conflicts: 409');
is_deeply(oo_codes($res), ['conflict'], 'an update whose audit record '
          . 'conflicts: conflict');
is(db_row('SELECT version_id FROM cr_patient WHERE id = ?', $id)
   ->{version_id}, $v, 'the update was rolled back');
is(last_seq(), $seq, 'no change, no event: the outbox is as before');
is(db_row('SELECT COUNT(*) AS n FROM cr_delivery d JOIN cr_outbox o ON '
          . 'o.seq = d.event_seq WHERE o.seq > ?', $seq)->{n}, 0,
   'and no delivery');

sub revise_body {
    my $sri = shift;
    return { resourceType => 'Patient',
             extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ],
             identifier => [ { use => 'official', system => $fha,
                               value => $sri } ],
             name => [ { use => 'official', family => "Asyncev$tok",
                         given => ['Evangeline'] } ],
             gender => 'female', birthDate => '1977-03-09',
             address => [ { type => 'physical', line => ['9 Birch Ave'],
                            city => 'Nanaimo', state => 'BC',
                            country => 'CA' } ] };
}
