# Per-directory configuration: inheritance and overrides between nested
# <Location>s, and per-location limits.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 9;

# /fhir-small: ClientRegistryMaxBodySize 2048, PageSize 10;
# /fhir-small/Patient (nested): PageSize 2, everything else inherited.
my $fam = unique_name();
for my $i (1 .. 3) {
    my $res = fhir_post('/fhir-small/Patient', sample_patient(family => $fam));
    is($res->code, 201, "nested location inherits ClientRegistry On ($i)");
}
my $res = fhir_get("/fhir-small/Patient?family=$fam");
is($res->code, 200, 'search in the nested location: 200');
my $b = json_of($res);
is(scalar @{ $b->{entry} }, 2, 'ClientRegistryPageSize 2 overrides the parent');
like($b->{entry}[0]{fullUrl}, qr{^http://[^/]+/fhir-small/Patient/},
     'the base path is the enabling <Location>');

my $big = sample_patient();
$big->{text} = { status => 'generated',
                 div => '<div xmlns="http://www.w3.org/1999/xhtml">' . ('x' x 3000) . '</div>' };
$res = fhir_post('/fhir-small/Patient', $big);
is($res->code, 413, 'ClientRegistryMaxBodySize 2048 is inherited: 413');
$res = fhir_post('/fhir/Patient', $big);
is($res->code, 201, 'the same body is fine where the limit is 65536');
is(fhir_get('/fhir-small/metadata')->code, 200,
   'the parent location serves metadata');
