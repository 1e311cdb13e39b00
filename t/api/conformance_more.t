# Checklist ids the other tests exercise without naming them
# (docs/conformance.md): a Revise with a death date and its verified
# flag (CR-REV-018, CR-PAT-006, CR-EXT-002, CR-EXT-008), the shape of the
# Revise and FindCandidates responses (CR-BND-006, CR-BND-007),
# identifier statuses (CR-EXT-005) and, for a privileged caller, the
# bc-sourceId-extension (CR-EXT-007, CR-INV-002).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 14;

my $tok = unique_token();
my %U = (UserId => 'conf@test');
my $EXT = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/';
my $phn = fresh_phn();
my $p = { resourceType => 'Patient',
    extension => [ { url => "${EXT}bc-business-period-extension",
                     valuePeriod => { start => '2024-01-01' } } ],
    identifier => [ { use => 'official',
                      system => sprintf(SRI_SYS, 'fha-mt'), value => "CM$tok" },
                    { system => PHN_SYS, value => $phn } ],
    name => [ { use => 'official', family => "Conffam$tok",
                given => ['Vera'] } ],
    gender => 'female', birthDate => '1931-03-04',
    deceasedDateTime => '2024-01-01',
    _deceasedDateTime => { extension => [ {
        url => "${EXT}bc-death-verified-flag-extension",
        extension => [ { url => 'deathVerifiedFlag',
                         valueBoolean => JSON::PP::true } ] } ] },
    address => [ { type => 'physical', line => ['7 Elm St'], city => 'Victoria',
                   state => 'BC', country => 'CA' } ] };
my $res = op_post('RevisePatient', bc_request(patient => $p), %U);
is($res->code, 201, 'CR-REV-018: a Revise with a death date and the verified '
   . 'flag: 201');
my $b = json_of($res);
is($b->{type}, 'collection', 'CR-BND-007: the Revise response is a '
   . 'collection');
my @e = @{ $b->{entry} || [] };
ok(@e >= 2 && @e <= 3 && scalar(patients_of($b)) == 1,
   'CR-BND-007: 2..3 entries, one Patient');
my ($got) = patients_of($b);
is($got->{deceasedDateTime}, '2024-01-01',
   'CR-REV-018, CR-PAT-006: returned as deceasedDateTime');
ok(!exists $got->{deceasedBoolean}, 'CR-PAT-006: never deceasedBoolean');
my ($flag) = grep { $_->{url} eq "${EXT}bc-death-verified-flag-extension" }
             @{ $got->{_deceasedDateTime}{extension} || [] };
is_deeply($flag && $flag->{extension},
          [ { url => 'deathVerifiedFlag', valueBoolean => JSON::PP::true } ],
          'CR-REV-018, CR-EXT-002: the verified flag stored and returned');
ok((grep { $_->{url} eq "${EXT}bc-business-period-extension" }
    @{ $got->{_deceasedDateTime}{extension} || [] })
   && (grep { $_->{url} eq "${EXT}bc-business-period-extension" }
       @{ $got->{_gender}{extension} || [] })
   && (grep { $_->{url} eq "${EXT}bc-business-period-extension" }
       @{ $got->{_birthDate}{extension} || [] }),
   'CR-EXT-008: extensions of primitives under _deceasedDateTime, _gender, '
   . '_birthDate');
my @st = map { my $i = $_; map { $_->{valueCode} } grep {
                   $_->{url} eq "${EXT}bc-identifier-status-extension" }
                   @{ $i->{extension} || [] } } @{ $got->{identifier} };
ok(@st == @{ $got->{identifier} } && !grep({ !/^(active|merged)$/ } @st),
   'CR-EXT-005: every identifier has a status, active or merged');

$res = op_post('FindCandidates', bc_request(patient => {
    resourceType => 'Patient',
    name => [ { family => "Conffam$tok", given => ['Vera'] } ],
    birthDate => '1931-03-04' }), %U);
$b = json_of($res);
is($b->{type}, 'searchset', 'CR-BND-006: the search response is a searchset');
ok(@{ $b->{entry} || [] } >= 3 && entries_of($b, 'Parameters') == 1
   && entries_of($b, 'OperationOutcome') == 1,
   'CR-BND-006: Parameters, OperationOutcome and the match: >= 2 entries');

SKIP: {
    skip 'mod_ssl is not available', 4
        unless Apache::Test::have_module('mod_ssl');
    $res = fhir_request('POST', '/fhir-secure/Patient/$GetDemographics',
        bc_request(patient => { resourceType => 'Patient',
            identifier => [ { system => PHN_SYS, value => $phn } ] }),
        module => 'mod_ssl', cert => 'client_admin', %U);
    is($res->code, 200, 'CR-EXT-007: $GetDemographics by a privileged '
       . 'caller: 200');
    ($got) = patients_of(json_of($res));
    my @src;
    for my $k (qw(name address identifier)) {
        for my $el (@{ $got->{$k} || [] }) {
            push @src, grep { $_->{url} eq "${EXT}bc-sourceId-extension" }
                       @{ $el->{extension} || [] };
        }
    }
    ok(scalar @src, 'CR-EXT-007: the privileged caller gets '
       . 'bc-sourceId-extension');
    ok(!grep({ my $n = @{ $_->{extension} || [] }; $n < 1 || $n > 2 } @src),
       'CR-INV-002: each has one or two sub-extensions');
    ok(!grep({ grep { $_->{url} !~ /^(sourceID|userID)$/
                      || !defined $_->{valueString} }
               @{ $_->{extension} } } @src),
       'CR-EXT-007: sub-extensions sourceID / userID as valueString');
}
