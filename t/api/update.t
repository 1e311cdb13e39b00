# PUT [base]/Patient/{id}: new versions, If-Match, PHN rules, unknown ids.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 33;

my $PHN_SYS =
    'https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id';

my ($res, $p) = create_patient(given => 'Bea');
my $id = $p->{id};
my $phn = phn_of($p);

# --- an update makes version 2 --------------------------------------------
my $upd = { %$p };
$upd->{name} = [ { use => 'official', family => $p->{name}[0]{family},
                   given => ['Beatrice'] } ];
delete $upd->{meta};
$res = fhir_put("/fhir/Patient/$id", $upd);
is($res->code, 200, 'update: 200');
my $v2 = json_of($res);
is($v2->{meta}{versionId}, '2', 'update: version 2');
is($res->header('ETag'), 'W/"2"', 'update: ETag W/"2"');
like($res->header('Content-Location'), qr{/fhir/Patient/\Q$id\E/_history/2$},
     'update: Content-Location names version 2');
is($v2->{name}[0]{given}[0], 'Beatrice', 'update: the new name');
is(phn_of($v2), $phn, 'update: the PHN is kept');
my $row = db_row('SELECT version_id, resource FROM cr_patient WHERE id = ?', $id);
is($row->{version_id}, 2, 'stored: current version 2');
like($row->{resource}, qr/Beatrice/, 'stored: current resource updated');
is(db_row('SELECT COUNT(*) AS n FROM cr_patient_version WHERE patient_id = ?', $id)->{n},
   2, 'stored: both versions kept');
like(db_row('SELECT resource FROM cr_patient_version WHERE patient_id = ? AND version_id = 1', $id)->{resource},
     qr/"Bea"/, 'stored: version 1 unchanged');
is(db_row("SELECT COUNT(*) AS n FROM cr_search_index WHERE patient_id = ? AND kind = 'given' AND value = 'bea'", $id)->{n},
   0, 'stored: old index key gone');
is(db_row("SELECT COUNT(*) AS n FROM cr_search_index WHERE patient_id = ? AND kind = 'given' AND value = 'beatrice'", $id)->{n},
   1, 'stored: new index key written');

# --- If-Match --------------------------------------------------------------
$upd->{gender} = 'other';
$res = fhir_put("/fhir/Patient/$id", $upd, 'If-Match' => 'W/"1"');
is($res->code, 412, 'If-Match with a stale version: 412');
is_deeply(oo_codes($res), ['conflict'], 'If-Match stale: conflict issue');
is(db_row('SELECT version_id FROM cr_patient WHERE id = ?', $id)->{version_id},
   2, 'If-Match stale: nothing written');
$res = fhir_put("/fhir/Patient/$id", $upd, 'If-Match' => 'W/"2"');
is($res->code, 200, 'If-Match with the current version: 200');
is(json_of($res)->{meta}{versionId}, '3', 'If-Match current: version 3');
is(json_of($res)->{gender}, 'other', 'If-Match current: applied');
$res = fhir_put("/fhir/Patient/$id", $upd, 'If-Match' => 'three');
is($res->code, 400, 'If-Match malformed: 400');

# --- PHN rules -------------------------------------------------------------
my $no_phn = { %$upd, id => $id };
$no_phn->{identifier} = [];
delete $no_phn->{identifier};
$res = fhir_put("/fhir/Patient/$id", $no_phn);
is($res->code, 200, 'update without the PHN: 200');
is(phn_of(json_of($res)), $phn, 'update without the PHN: the PHN is kept');
my $other = { %$upd, identifier => [ { system => $PHN_SYS,
                                        value => '9999999998' } ] };
$res = fhir_put("/fhir/Patient/$id", $other);
is($res->code, 422, 'update changing the PHN: 422');
is_deeply(oo_codes($res), ['business-rule@Patient.identifier'],
          'update changing the PHN: business-rule');

# --- id rules --------------------------------------------------------------
$res = fhir_put("/fhir/Patient/$id", { %$upd, id => 'another-id' });
is($res->code, 400, 'update with a different body id: 400');
my $noid = { %$upd };
delete $noid->{id};
$res = fhir_put("/fhir/Patient/$id", $noid);
is($res->code, 400, 'update without a body id: 400');
my $unknown = '11111111-2222-4333-8444-555555555555';
$res = fhir_put("/fhir/Patient/$unknown", { %$upd, id => $unknown });
is($res->code, 404, 'update of an unknown id (no client ids): 404');
is(db_row('SELECT COUNT(*) AS n FROM cr_patient WHERE id = ?', $unknown)->{n},
   0, 'update of an unknown id: nothing created');

# --- client-assigned ids where configured -----------------------------------
my $cid = 'client-id-' . unique_name('x');
my $np = sample_patient();
$np->{id} = $cid;
$res = fhir_put("/fhir-ids/Patient/$cid", $np);
is($res->code, 201, 'ClientRegistryClientIds On: PUT creates, 201');
is($res->header('Location'),
   "https://registry.example.org/fhir-ids/Patient/$cid/_history/1",
   'ClientRegistryBaseURL is used in Location');
is(json_of($res)->{id}, $cid, 'the client id is kept');
ok(valid_phn(phn_of(json_of($res))), 'a PHN is assigned');
$res = fhir_put("/fhir-ids/Patient/$cid", $np);
is($res->code, 200, 'PUT again updates: 200');
is(json_of($res)->{meta}{versionId}, '2', 'PUT again: version 2');
