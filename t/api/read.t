# GET [base]/Patient/{id}, by PHN, vread, conditional read, HEAD.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 19;

my ($res, $p) = create_patient();
is($res->code, 201, 'setup: created');
my $id = $p->{id};

$res = fhir_get("/fhir/Patient/$id");
is($res->code, 200, 'read: 200');
is_deeply(json_of($res), $p, 'read: the stored resource is what create returned');
is($res->header('ETag'), 'W/"1"', 'read: ETag');
ok($res->header('Last-Modified'), 'read: Last-Modified');

my $phn = phn_of($p);
$res = fhir_get("/fhir/Patient/$phn");
is($res->code, 200, 'read by PHN (DECISION-02): 200');
is(json_of($res)->{id}, $id, 'read by PHN: the same patient');

$res = fhir_get('/fhir/Patient/9999999999');
is($res->code, 422, 'read by a PHN failing the check digit: 422');

$res = fhir_get('/fhir/Patient/00000000-0000-4000-8000-000000000000');
is($res->code, 404, 'read unknown id: 404');
is_deeply(oo_codes($res), ['not-found'], 'read unknown id: not-found');

$res = fhir_get("/fhir/Patient/$id/_history/1");
is($res->code, 200, 'vread 1: 200');
is(json_of($res)->{meta}{versionId}, '1', 'vread 1: version 1');
$res = fhir_get("/fhir/Patient/$id/_history/2");
is($res->code, 404, 'vread a version that does not exist: 404');
$res = fhir_get("/fhir/Patient/$id/_history/x1");
is($res->code, 404, 'vread a malformed version: 404');

$res = fhir_get("/fhir/Patient/$id", 'If-None-Match' => 'W/"1"');
is($res->code, 304, 'conditional read with the current ETag: 304');
is($res->content, '', '304 has no body');
$res = fhir_get("/fhir/Patient/$id", 'If-None-Match' => 'W/"7"');
is($res->code, 200, 'conditional read with another ETag: 200');

$res = fhir_request('HEAD', "/fhir/Patient/$id", undef);
is($res->code, 200, 'HEAD: 200');
is($res->content, '', 'HEAD: no body');
