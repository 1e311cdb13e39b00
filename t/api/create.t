# POST [base]/Patient: create with server-assigned id, version and PHN.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 42;

my $PHN_SYS =
    'https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id';

# A valid PHN with a random body high in the range the test server never
# allocates from sequentially (it starts at 0).
sub fresh_phn {
    for (1 .. 1000) {
        my $b = 90000000 + int(rand(9999999));
        my @d = split //, "9$b";
        my @w = (2, 4, 8, 5, 10, 9, 7, 3);
        my $s = 0;
        $s += ($d[$_ + 1] * $w[$_]) % 11 for 0 .. 7;
        my $r = $s % 11;
        next if $r < 2;
        my $phn = "9$b" . (11 - $r);
        return $phn unless db_row('SELECT 1 AS x FROM cr_identifier WHERE value = ?', $phn);
    }
    die 'no PHN';
}

# --- a plain create -------------------------------------------------------
my $family = unique_name();
my $sent = sample_patient(family => $family);
$sent->{id} = 'client-chosen-id';
my $res = fhir_post('/fhir/Patient', $sent);
is($res->code, 201, 'create: 201 Created');
my $p = json_of($res);
like($p->{id}, qr/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
     'create: server assigns a UUID id');
isnt($p->{id}, 'client-chosen-id', 'create: a client id is ignored');
is($p->{meta}{versionId}, '1', 'create: meta.versionId 1');
like($p->{meta}{lastUpdated}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
     'create: meta.lastUpdated is an instant');
like($res->header('Location'),
     qr{^http://[^/]+/fhir/Patient/\Q$p->{id}\E/_history/1$},
     'create: Location names the new version');
is($res->header('ETag'), 'W/"1"', 'create: ETag W/"1"');
ok($res->header('Last-Modified'), 'create: Last-Modified set');
like($res->header('Content-Type'), qr{^application/fhir\+json},
     'create: FHIR JSON');
my $phn = phn_of($p);
ok(valid_phn($phn), "CR-PHN-007: the assigned PHN $phn passes the check digit");
my ($phn_id) = grep { $_->{system} eq $PHN_SYS } @{ $p->{identifier} };
is($phn_id->{use}, 'official', 'assigned PHN: use official');
is($phn_id->{type}{coding}[0]{code}, 'JHN', 'assigned PHN: type JHN');
is($phn_id->{assigner}{display}, 'MOH Client Registry - MOH_CRS',
   'assigned PHN: assigner');
is($p->{name}[0]{family}, $family, 'create: the name is stored as sent');

# Stored state.
my $row = db_row('SELECT * FROM cr_patient WHERE id = ?', $p->{id});
is($row->{phn}, $phn, 'stored: cr_patient.phn');
is($row->{version_id}, 1, 'stored: version 1');
is($row->{birth_date}, '1980-03-04', 'stored: birth date column');
my $ver = db_row('SELECT * FROM cr_patient_version WHERE patient_id = ?',
                 $p->{id});
is($ver->{operation}, 'create', 'stored: version row says create');
is($ver->{message_id}, $res->header('X-Request-Id'),
   'stored: the request message id is recorded');
is(db_row('SELECT COUNT(*) AS n FROM cr_identifier WHERE patient_id = ? AND system = ? AND value = ?',
          $p->{id}, $PHN_SYS, $phn)->{n}, 1, 'stored: PHN identifier row');
is(db_row("SELECT COUNT(*) AS n FROM cr_search_index WHERE patient_id = ? AND kind = 'family' AND value = ?",
          $p->{id}, lc $family)->{n}, 1, 'stored: normalized family key');
is(db_row("SELECT value FROM cr_search_index WHERE patient_id = ? AND kind = 'phone'",
          $p->{id})->{value}, '2505550100', 'stored: phone digits key');

# --- Request-Id and UserId are recorded -----------------------------------
$res = fhir_post('/fhir/Patient', sample_patient(), 'Request-Id' => 'abc123def',
                 'UserId' => 'bsmith@IDIR');
is($res->code, 201, 'create with Request-Id: 201');
my $id2 = json_of($res)->{id};
$ver = db_row('SELECT * FROM cr_patient_version WHERE patient_id = ?', $id2);
is($ver->{message_id}, 'abc123def', 'provenance: Request-Id recorded');
is($ver->{user_id}, 'bsmith@IDIR', 'provenance: UserId recorded');
is($res->header('X-Request-Id'), 'abc123def', 'X-Request-Id echoes it');

# --- Prefer ---------------------------------------------------------------
$res = fhir_post('/fhir/Patient', sample_patient(), Prefer => 'return=minimal');
is($res->code, 201, 'Prefer return=minimal: 201');
is($res->content, '', 'Prefer return=minimal: no body');
like($res->header('Location'), qr{/fhir/Patient/[0-9a-f-]{36}/_history/1$},
     'Prefer return=minimal: Location still set');
$res = fhir_post('/fhir/Patient', sample_patient(),
                 Prefer => 'return=OperationOutcome');
is($res->code, 201, 'Prefer return=OperationOutcome: 201');
my @is = oo_issues($res);
is($is[0]{severity}, 'information', 'Prefer return=OperationOutcome: an information issue');

# --- a supplied PHN -------------------------------------------------------
my $mine = fresh_phn();
$res = fhir_post('/fhir/Patient', sample_patient(
    identifier => [ { system => $PHN_SYS, value => $mine } ]));
is($res->code, 201, 'CR-ADD-004: a valid supplied PHN is accepted');
is(phn_of(json_of($res)), $mine, 'CR-ADD-004: and kept as the PHN');
is(scalar(grep { $_->{system} eq $PHN_SYS } @{ json_of($res)->{identifier} }),
   1, 'no second PHN is assigned');

my $fam = unique_name();
$res = fhir_post('/fhir/Patient', sample_patient(family => $fam,
    identifier => [ { system => $PHN_SYS, value => $mine } ]));
is($res->code, 422, 'CR-ADD-006: a PHN held by another client: 422');
is_deeply(oo_codes($res), ['duplicate@Patient.identifier[0]'],
          'CR-ADD-006: duplicate at the identifier');
is(db_row("SELECT COUNT(*) AS n FROM cr_search_index WHERE kind = 'family' AND value = ?",
          lc $fam)->{n}, 0, 'CR-ADD-006: nothing stored');

$res = fhir_post('/fhir/Patient', sample_patient(family => $fam,
    identifier => [ { system => $PHN_SYS, value => '9999999999' } ]));
is($res->code, 422, 'CR-PHN-004: a PHN failing the check digit: 422');
is_deeply(oo_codes($res), ['business-rule@Patient.identifier[0].value'],
          'CR-PHN-004: business-rule at the value');
is(db_row("SELECT COUNT(*) AS n FROM cr_search_index WHERE kind = 'family' AND value = ?",
          lc $fam)->{n}, 0, 'CR-PHN-004: nothing stored');

# --- application/json and _format -----------------------------------------
$res = fhir_post('/fhir/Patient', sample_patient(),
                 'Content-Type' => 'application/json', Accept => 'application/json');
is($res->code, 201, 'application/json is accepted');
like($res->header('Content-Type'), qr{^application/json},
     'and answered as application/json');
