# GET [base]/metadata: a CapabilityStatement built from what the module
# serves.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 9;

my $res = fhir_get('/fhir/metadata');
is($res->code, 200, 'metadata: 200');
like($res->header('Content-Type'), qr{^application/fhir\+json; charset=utf-8},
     'metadata: FHIR JSON content type');
my $cs = json_of($res);
is($cs->{resourceType}, 'CapabilityStatement', 'a CapabilityStatement');
is($cs->{fhirVersion}, '4.0.1', 'FHIR R4');
my ($pat) = grep { $_->{type} eq 'Patient' } @{ $cs->{rest}[0]{resource} };
is_deeply([ sort map { $_->{code} } @{ $pat->{interaction} } ],
          [ sort qw(read vread update history-instance create search-type) ],
          'Patient interactions are those served');
is_deeply([ sort map { $_->{name} } @{ $pat->{searchParam} } ],
          [ sort qw(_id identifier phone email family given name
                    address-postalcode birthdate gender) ],
          'search parameters are those served');
is($pat->{updateCreate}, JSON::PP::false, 'updateCreate off by default');
like($cs->{implementation}{url}, qr{^http://[^/]+/fhir$},
     'implementation url is the base');
is(fhir_request('POST', '/fhir/metadata', {})->code, 405,
   'POST metadata: 405');
