# Every change-notification event code (profiles.md 7.3), end to end
# (CR-NOT-001, CR-NOT-003, CR-NOT-004, CR-NOT-005, CR-NOT-009): each code is
# produced by the real write that causes it -- RESTful create and update,
# $AddPatient with a mother (newborn), $MergePatient and $UnmergePatient --
# and arrives at a subscribed partner (t/cgi/partner.cgi) as a
# $PatientNotification whose eventType is that code, with the client the
# event names (and the version its write made) in the Bundle.  A partner
# subscribed to some codes receives those and no others.  Which write
# causes which code is t/api/events.t's subject (read from the outbox);
# this file follows each code to the partner.  The subscriptions made here
# are turned off at the end, so later files' timings do not depend on them.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use CR::Test;
use CR::BC;
use CR::Notify;

plan tests => 32;

quiet_other_subscriptions();
my $tok = unique_token();
my ($pa, $ps) = ("pea$$", "pes$$");
my @ALL = qw(NEW NEWBORN NEWBORN_GENDER COMPOSITE DEATH PHN PHNMERGE PHNJOIN
             SSRI EID);
my @SOME = qw(NEWBORN PHNMERGE EID);
my $CS = 'https://terminology.hlth.gov.bc.ca/ClientRegistry/CodeSystem/'
         . 'bc-client-registry-patient-change-notification-events';
my $fha = sprintf(SRI_SYS, 'fha-mt');
my $child = sprintf(SRI_SYS, 'fha-arh');
my %U = (UserId => 'ig.samples@cgi.com');
my $WAIT = 60;   # seconds: the machine may be loaded
my @subs;

sub subscribe {
    my $id = subscribe_partner(@_);
    push @subs, $id if $id;
    return $id;
}
# The notifications partner $name received about client $pid, in order of
# receipt: "CODE:version", each only if its eventType coding has the
# change-notification system and the Patient entry's fullUrl names it.
sub got {
    my ($name, $pid) = @_;
    return join ' ', map {
        my $n = $_;
        my ($e) = grep { ($_->{resource}{resourceType} // '') eq 'Patient' }
                  @{ $n->{body}{entry} || [] };
        my ($par) = grep { ($_->{resource}{resourceType} // '') eq
                           'Parameters' } @{ $n->{body}{entry} || [] };
        my ($et) = grep { $_->{name} eq 'eventType' }
                   @{ $par->{resource}{parameter} || [] };
        my $sys = $et->{valueCodeableConcept}{coding}[0]{system} // '';
        $e && ($e->{resource}{id} // '') eq $pid
            && ($e->{fullUrl} // '') =~ m{/Patient/\Q$pid\E\z}
            && $n->{path} =~ m{/Patient/\$PatientNotification\z}
            ? ($sys eq $CS ? "$n->{event}:$e->{resource}{meta}{versionId}"
                           : "$n->{event}:badsystem") : () }
        partner_received($name);
}
# "CODE:version" of the events the writes recorded for client $pid (the
# outbox), restricted to @codes.
sub recorded {
    my ($pid, @codes) = @_;
    my %want = map { $_ => 1 } @codes;
    return join ' ', map { "$_->{event_code}:$_->{patient_version}" }
        grep { $want{$_->{event_code}} } @{ db_rows(
        'SELECT event_code, patient_version FROM cr_outbox '
        . 'WHERE patient_id = ? ORDER BY seq', $pid) };
}
# Wait until partner $name got, about client $pid, exactly what the
# outbox recorded of @codes and it contains $code.
sub arrived {
    my ($name, $pid, $code, @codes) = @_;
    my $last = '';
    my $ok = wait_for(sub {
        my $want = recorded($pid, @codes);
        $last = got($name, $pid) . " (recorded: $want)";
        return $want =~ /\b\Q$code\E:\d+/ && got($name, $pid) eq $want;
    }, $WAIT);
    diag("$name, $pid: $last") unless $ok;
    return $ok;
}
sub current {
    my $id = shift;
    my $p = json_of(fhir_get("/fhir/Patient/$id"));
    delete $p->{meta};
    return $p;
}
sub revise {
    my ($sri, %o) = @_;
    return op_post('RevisePatient', bc_request(patient => {
        resourceType => 'Patient',
        extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/'
                         . 'StructureDefinition/bc-business-period-extension',
                         valuePeriod => { start => '2024-01-01' } } ],
        identifier => [ { use => 'official', system => $fha, value => $sri } ],
        name => [ { use => 'official', family => $o{family},
                    given => [ $o{given} ] } ],
        gender => 'male', birthDate => $o{dob},
        address => [ { type => 'physical', line => ['5 Notify St'],
                       city => 'Duncan', state => 'BC', country => 'CA' } ],
    }), %U);
}

ok(subscribe($pa, join(',', @ALL)), 'CR-SUB-001: a partner subscribes to '
   . 'every event code');
ok(subscribe($ps, join(',', @SOME)), 'CR-SUB-001: another to NEWBORN, '
   . 'PHNMERGE and EID only');

# ---- RESTful create and update: NEW, COMPOSITE, DEATH, PHNJOIN, SSRI, EID --
my ($res, $p) = create_patient(family => "Evnt$tok", given => 'Nora');
is($res->code, 201, 'create: 201');
my $id = $p->{id};
ok(arrived($pa, $id, 'NEW', @ALL), 'CR-NOT-001: NEW from a create arrived');
$p = current($id);
$p->{gender} = $p->{gender} eq 'male' ? 'female' : 'male';
is(fhir_put("/fhir/Patient/$id", $p)->code, 200, 'update gender: 200');
ok(arrived($pa, $id, 'COMPOSITE', @ALL),
   'CR-NOT-001: COMPOSITE from an update arrived');
$p = current($id);
$p->{deceasedDateTime} = '2026-01-02';
is(fhir_put("/fhir/Patient/$id", $p)->code, 200, 'update deceased: 200');
ok(arrived($pa, $id, 'DEATH', @ALL),
   'CR-NOT-001: DEATH from a death arrived');
$p = current($id);
push @{ $p->{identifier} }, { use => 'official', system => $fha,
                              value => "NJ$tok" };
is(fhir_put("/fhir/Patient/$id", $p)->code, 200,
   'update adding a source record identifier: 200');
ok(arrived($pa, $id, 'PHNJOIN', @ALL),
   'CR-NOT-001: PHNJOIN from a source record joining arrived');
$p = current($id);
push @{ $p->{identifier} }, { use => 'secondary', system => $child,
                              value => "NS$tok" };
is(fhir_put("/fhir/Patient/$id", $p)->code, 200,
   'update adding a child system\'s identifier: 200');
ok(arrived($pa, $id, 'SSRI', @ALL),
   'CR-NOT-001: SSRI from a child system\'s record joining arrived');
$p = current($id);
$p->{identifier} = [ grep { $_->{system} ne $fha } @{ $p->{identifier} } ];
is(fhir_put("/fhir/Patient/$id", $p)->code, 200,
   'update removing the source record identifier: 200');
ok(arrived($pa, $id, 'EID', @ALL),
   'CR-NOT-001: EID from a source record leaving arrived');

# ---- $AddPatient newborn (CR-ADD-018): NEWBORN, then NEWBORN_GENDER --------
my $person = sub {
    my ($sri, %o) = @_;
    return { resourceType => 'Patient',
             identifier => [ { use => 'official', system => $fha,
                               value => $sri } ],
             name => [ { use => 'usual', family => "Evnb$tok",
                         given => ['Ada'] } ],
             gender => $o{gender} // 'female', birthDate => '1981-03-04',
             ($o{mother} ? () : (address => [ { type => 'physical',
                 line => ['1 Main St'], city => 'Victoria', state => 'BC',
                 country => 'CA' } ])) };
};
$res = op_post('AddPatient', bc_request(patient => $person->("NM$tok")), %U);
is($res->code, 201, '$AddPatient (the mother): 201');
my ($mother) = patients_of(json_of($res));
$res = op_post('AddPatient', bc_request(
    patient => $person->("NB$tok", mother => 1, gender => 'unknown'),
    related => { resourceType => 'RelatedPerson',
                 identifier => [ { use => 'official', system => PHN_SYS,
                                   value => phn_of($mother) } ],
                 patient => { reference => 'urn:uuid:x' },
                 relationship => [ { coding => [ { system =>
                     'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
                     code => 'NMTH' } ] } ] }), %U);
is($res->code, 201, '$AddPatient (a newborn): 201');
my ($baby) = patients_of(json_of($res));
my $bid = $baby->{id};
ok(arrived($pa, $bid, 'NEWBORN', @ALL),
   'CR-NOT-001, CR-ADD-018: NEWBORN from a newborn\'s $AddPatient arrived');
$p = current($bid);
$p->{gender} = 'female';
is(fhir_put("/fhir/Patient/$bid", $p)->code, 200,
   'the newborn\'s gender set: 200');
ok(arrived($pa, $bid, 'NEWBORN_GENDER', @ALL),
   'CR-NOT-001: NEWBORN_GENDER from a newborn\'s gender set arrived');

# ---- $MergePatient and $UnmergePatient (CR-MRG-018): PHNMERGE, PHN ---------
my ($ma) = patients_of(json_of(revise("MA$tok", family => "Mone$tok",
                                      given => 'Alfred', dob => '1956-04-04')));
my ($mb) = patients_of(json_of(revise("MB$tok", family => "Mtwo$tok",
                                      given => 'Bruno', dob => '1957-05-05')));
ok($ma && $mb, 'two clients to merge');
my $merge = bc_request(patient => {
    resourceType => 'Patient',
    identifier => [ { use => 'official', system => $fha, value => "MA$tok" } ],
    link => [ { extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/'
                                 . 'StructureDefinition/'
                                 . 'bc-merge-status-extension',
                                 valueCode => 'obsolete' } ],
                other => { identifier => { system => $fha,
                                           value => "MB$tok" } },
                type => 'replaces' } ] });
is(op_post('MergePatient', $merge, %U)->code, 200, '$MergePatient: 200');
ok(arrived($pa, $ma->{id}, 'PHNMERGE', @ALL)
   && arrived($pa, $mb->{id}, 'PHNMERGE', @ALL),
   'CR-NOT-001, CR-MRG-018: PHNMERGE arrived for both clients of a merge');
# The unmerge is a message of its own (a new messageId, CR-PARAM-004).
my $unmerge = bc_request(patient => (grep { $_->{resource}{resourceType} eq
                                            'Patient' }
                                     @{ $merge->{entry} })[0]{resource});
is(op_post('UnmergePatient', $unmerge, %U)->code, 200, '$UnmergePatient: 200');
ok(arrived($pa, $mb->{id}, 'PHN', @ALL),
   'CR-NOT-001, CR-MRG-018: PHN from an unmerge (the restored client) '
   . 'arrived');
ok(arrived($pa, $ma->{id}, 'EID', @ALL),
   'CR-NOT-001: EID from an unmerge (the survivor) arrived');

# ---- every code arrived at the partner subscribed to all --------------------
my %seen;
for my $pid ($id, $bid, $ma->{id}, $mb->{id}) {
    $seen{(split /:/)[0]} = 1 for split / /, got($pa, $pid);
}
is(join(' ', grep { $seen{$_} } @ALL), join(' ', @ALL),
   'CR-NOT-001: every event code of profiles.md 7.3 arrived from its write');
my %mids;
$mids{$_->{mid} // ''}++ for partner_received($pa);
is(scalar(grep { $mids{$_} > 1 || $_ eq '' } keys %mids), 0,
   'CR-NOT-003: each notification has a messageId of its own');

# ---- CR-NOT-009: the partner subscribed to some codes got those only --------
for (['the updated client (EID)', $id], ['the newborn (NEWBORN)', $bid],
     ['the survivor (PHNMERGE, EID)', $ma->{id}],
     ['the restored client (PHNMERGE)', $mb->{id}]) {
    my ($what, $pid) = @$_;
    ok(wait_for(sub { my $w = recorded($pid, @SOME);
                      $w ne '' && got($ps, $pid) eq $w }, $WAIT),
       "CR-NOT-009: the NEWBORN, PHNMERGE, EID partner got exactly those "
       . "of $what");
}
is(join(' ', sort grep { my $c = $_; !grep { $_ eq $c } @SOME }
             map { $_->{event} // 'none' } partner_received($ps)), '',
   'CR-NOT-009: and no notification of another code, about any client');

# ---- this file's subscriptions off (later files' deliveries are theirs) ----
db_dbh()->do("UPDATE cr_subscription SET status = 'off' WHERE id = ?",
             undef, $_) for @subs;
