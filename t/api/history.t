# GET [base]/Patient/{id}/_history: the versions, newest first, paged.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 15;

my ($res, $p) = create_patient(given => 'Hist');
my $id = $p->{id};
for my $g (qw(Histb Histc)) {
    my $u = { %$p, name => [ { family => $p->{name}[0]{family},
                               given => [$g] } ] };
    delete $u->{meta};
    is(fhir_put("/fhir/Patient/$id", $u)->code, 200, "setup: update to $g");
}

$res = fhir_get("/fhir/Patient/$id/_history");
is($res->code, 200, 'history: 200');
my $b = json_of($res);
is($b->{type}, 'history', 'history: a history Bundle');
is($b->{total}, 3, 'history: total 3');
is_deeply([ map { $_->{resource}{meta}{versionId} } @{ $b->{entry} } ],
          [ '3', '2', '1' ], 'history: newest first');
is($b->{entry}[2]{request}{method}, 'POST', 'history: version 1 was a POST');
is($b->{entry}[0]{request}{method}, 'PUT', 'history: version 3 was a PUT');
is($b->{entry}[0]{response}{etag}, 'W/"3"', 'history: entry etag');
like($b->{entry}[0]{fullUrl}, qr{/fhir/Patient/\Q$id\E/_history/3$},
     'history: entry fullUrl names the version');

$res = fhir_get("/fhir/Patient/$id/_history?_count=2");
$b = json_of($res);
is(scalar @{ $b->{entry} }, 2, 'history _count=2: two entries');
my ($next) = map { $_->{url} } grep { $_->{relation} eq 'next' } @{ $b->{link} };
like($next, qr/_offset=2/, 'history: next link');
(my $path = $next) =~ s{^https?://[^/]+}{};
$b = json_of(fhir_get($path));
is_deeply([ map { $_->{resource}{meta}{versionId} } @{ $b->{entry} } ],
          ['1'], 'history: next page holds version 1');

$res = fhir_get("/fhir/Patient/$id/_history?_since=2020-01-01");
is($res->code, 400, 'history with an unsupported parameter: 400');
$res = fhir_get('/fhir/Patient/00000000-0000-4000-8000-00000000abcd/_history');
is($res->code, 404, 'history of an unknown patient: 404');
