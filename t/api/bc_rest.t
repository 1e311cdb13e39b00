# The BC RESTful forms (operations.md 8), chosen by the G5 versioning
# Accept header "application/fhir+json; charset=utf-8; fhirVersion=4.0;
# BCFhirVersion=1": GET [base]/Patient?... with the FindCandidates
# criteria rules, the GetDemographics reads by identifier and id with the
# BC _history and _identifiersOnly flags, paging, Request-Id; the plain
# FHIR interactions stay as they are for other clients; the
# CapabilityStatement lists the operations with the IG's canonicals.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 69;

my $fam = unique_name('Restfam');
my $phn = fresh_phn();
my $sri = sprintf(SRI_SYS, 'viha-south');
my $tok = unique_token();
my $id = store_patient({ resourceType => 'Patient',
    identifier => [ { system => PHN_SYS, value => $phn },
                    { system => $sri, value => "R$tok" } ],
    name => [ { use => 'usual', family => $fam, given => ['Ruth Ann'] } ],
    telecom => [ { system => 'phone', value => '2505551234', use => 'home' },
                 { system => 'email', value => 'ruth@example.org',
                   use => 'home' } ],
    gender => 'female', birthDate => '1966-06-16',
    address => [ { type => 'physical', line => ['77 Pine Rd'],
                   city => 'Nelson', state => 'BC', postalCode => 'V1L 4A1',
                   country => 'CA' } ] });
my $cur = json_of(fhir_get("/fhir/Patient/$id"));
my $old_given = 'Ruth Ann';
$cur->{name}[0]{given} = ['Ruthie'];
is(fhir_put("/fhir/Patient/$id", $cur)->code, 200,
   'setup: a client with an earlier given name');
my @three = map { store_patient({ resourceType => 'Patient',
    name => [ { family => "${fam}x", given => ['Pat'] } ],
    birthDate => '1999-09-09', gender => 'male' }) } 1 .. 3;
my $snap = db_snapshot();

my ($res, $bb);
sub get { my ($path, @h) = @_; $res = bc_get($path, @h);
          $bb = json_of($res); return $res }
sub pat { (patients_of($bb))[0] }
my $PHN_Q = 'identifier=' . PHN_SYS . "%7C$phn";

# ---- reads (GetDemographics) -------------------------------------------------
get("/fhir/Patient?$PHN_Q", 'Request-Id' => "req$tok");
is($res->code, 200, 'CR-REST-001: GET Patient?identifier=PHN|...: 200');
like($res->header('Content-Type'), qr{^application/fhir\+json},
     'CR-GEN-007: the BC Accept is accepted, FHIR JSON answered');
is_deeply([ $bb->{type}, $bb->{total}, pat()->{id} ],
          [ 'searchset', 1, $id ], 'CR-REST-001: a SearchResponseBundle '
          . 'with the client');
is_deeply([ issues_of($bb) ], [ 'information business-rule BCHCIM.GD.0.0013' ],
          'CR-REST-001: BCHCIM.GD.0.0013');
is(params_of($bb)->{requestMessageId}, "req$tok",
   'CR-REST-013: Request-Id is returned as requestMessageId');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
get("/fhir/Patient?identifier=$sri|R$tok");
is(pat()->{id}, $id, 'CR-REST-001: by SRI with a raw |');
my $plain = pat();
get("/fhir/Patient/$phn");
is_deeply([ $res->code, $bb->{resourceType}, pat() ],
          [ 200, 'Bundle', $plain ], 'CR-REST-002: GET Patient/<PHN>: the '
          . 'same client in a SearchResponseBundle');
get("/fhir/Patient/$id");
is_deeply([ $res->code, pat() ], [ 200, $plain ],
          'CR-REST-003: GET Patient/<uuid>: the same client');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
is_deeply([ map { $_->{given}[0] } @{ $plain->{name} } ], ['Ruthie'],
          'without the flag: no history');
get("/fhir/Patient/_history?$PHN_Q");
is($res->code, 200, 'CR-REST-004: GET Patient/_history?identifier=: 200');
is_deeply([ map { $_->{given}[0] } @{ pat()->{name} } ],
          [ 'Ruthie', $old_given ], 'CR-REST-004: with history (the old '
          . 'name, period.end)');
ok(pat()->{name}[1]{period}{end}, 'CR-REST-004: the old name has '
   . 'period.end');
is(params_of($bb)->{history}, JSON::PP::true, 'CR-REST-004: history '
   . 'echoed');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
my $hist = pat();
get("/fhir/Patient/_identifiersOnly?$PHN_Q");
is_deeply([ $res->code, sort keys %{ pat() } ],
          [ 200, qw(id identifier meta resourceType) ],
          'CR-REST-005: GET Patient/_identifiersOnly?identifier=: '
          . 'identifiers only');
get("/fhir/Patient/$id/_history");
is_deeply([ $res->code, $bb->{type}, pat() ], [ 200, 'searchset', $hist ],
          'CR-REST-006: GET Patient/<id>/_history: the client with history, '
          . 'not a FHIR history Bundle');
get("/fhir/Patient/$phn/_identifiersOnly");
is_deeply([ $res->code, sort keys %{ pat() } ],
          [ 200, qw(id identifier meta resourceType) ],
          'CR-REST-006: GET Patient/<PHN>/_identifiersOnly');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
get('/fhir/Patient/00000000-0000-4000-8000-00000000beef');
is($res->code, 404, 'CR-REST-007: unknown id: 404');
is_deeply([ $bb->{resourceType}, issues_of($bb) ],
          [ 'Bundle', 'error not-found BCHCIM.GD.2.0018' ],
          'CR-REST-007: a Bundle with not-found BCHCIM.GD.2.0018');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
get('/fhir/Patient/9999999999');
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 422, 'BCHCIM.GD.2.0134' ], 'an id that is a PHN failing the '
          . 'check digit: 422');
get('/fhir/Patient?identifier=' . PHN_SYS . '|' . fresh_phn());
is_deeply([ $res->code, $bb->{total} ], [ 200, 0 ],
          'unknown identifier: 200, total 0');
get("/fhir/Patient?$PHN_Q&family=$fam");
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 400, 'BCHCIM.GD.2.0100' ], 'identifier with other criteria: '
          . '400');
get('/fhir/Patient/_history?family=X');
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 400, 'BCHCIM.GD.2.0131' ], 'Patient/_history without '
          . 'identifier: 400');
get('/fhir/Patient?identifier=nobar');
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 400, 'BCHCIM.GD.2.0135' ], 'identifier without system|value: '
          . '400');
get('/fhir/Patient?identifier=urn:x:y%7C1');
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 422, 'BCHCIM.GD.2.0133' ], 'identifier of an unknown system: '
          . '422');

# ---- find (FindCandidates rules) -----------------------------------------------
get("/fhir/Patient?family=$fam&given=Ruthie&birthdate=1966-06-16");
is($res->code, 200, 'CR-REST-008: family, given, birthdate: 200');
is_deeply([ pat()->{id}, issues_of($bb) ],
          [ $id, 'information business-rule BCHCIM.FC.0.0012' ],
          'CR-REST-008: the client, BCHCIM.FC.0.0012');
like((entries_of($bb, 'Patient'))[0]{search}{score}, qr/^\d+$/,
     'CR-REST-008: with a score');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
get("/fhir/Patient?family=$fam&given=Ruthie");
is($res->code, 422, 'CR-REST-009: name only: 422');
is_deeply([ issues_of($bb) ], [ 'error business-rule BCHCIM.FC.2.0122'
                                . '@Patient' ],
          'CR-REST-009: BCHCIM.FC.2.0122');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
get('/fhir/Patient?given=Ruthie&birthdate=1966-06-16');
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 422, 'BCHCIM.FC.2.0121' ], 'no family: 422, BCHCIM.FC.2.0121');
for my $q ("address-line=77%20Pine%20Rd", 'address-postalcode=V1L+4A1',
           'phone=2505551234') {
    get("/fhir/Patient?family=$fam&given=Ruthie&$q");
    is_deeply([ $res->code, pat() ? pat()->{id} : undef ], [ 200, $id ],
              "CR-REST-010, CR-REST-012: family, given and $q");
}
get("/fhir/Patient?family=$fam&given=Ruthie&birthdate=1966-06-16"
    . '&gender=female&address-city=Nelson&address-province=BC'
    . '&address-country=CA&email=ruth%40example.org');
is_deeply([ $res->code, pat()->{id} ], [ 200, $id ],
          'CR-REST-010: gender, address-city, address-province, '
          . 'address-country, email accepted');
get("/fhir/Patient?family=$fam&given=Ruthie&birthdate=1966-06-16"
    . '&address-state=BC');
is($res->code, 200, 'CR-REST-010: address-state accepted as well');
get("/fhir/Patient?family=$fam&given=Ruthie&given=Ann"
    . '&birthdate=1966-06-16');
is($res->code, 400, 'CR-REST-011: two given: 400');
is_deeply([ issues_of($bb) ], [ 'error not-supported BCHCIM.FC.2.0126'
                                . '@given' ],
          'CR-REST-011: not-supported BCHCIM.FC.2.0126 at given');
get("/fhir/Patient?family=$fam&given=Ruthie&address-line=a"
    . '&address-line=b');
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 400, 'BCHCIM.FC.2.0126' ], 'CR-REST-011: two address-line: 400');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
get("/fhir/Patient?family=$fam&given=Ru*&birthdate=1966-06-16");
is_deeply([ $res->code, issues_of($bb) ],
          [ 422, 'error business-rule BCHCIM.FC.2.0123@Patient.name[0]'
                 . '.given[0]' ], 'CR-FC-018: a wildcard: 422');
get("/fhir/Patient?family=$fam&given=Ruthie&birthdate=ge1966-06-16");
is($res->code, 400, 'a birthdate with a prefix is not an exact date: 400');
get("/fhir/Patient?family=$fam&given=Ruthie&birthdate=1966-06-16"
    . '&nickname=x');
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 400, 'BCHCIM.FC.2.0126' ], 'an unknown parameter: 400');
get("/fhir/Patient?family=$fam&given=Ruthie&birthdate=1966-06-16"
    . '&nickname=x', Prefer => 'handling=lenient');
is_deeply([ $res->code, issues_of($bb) ],
          [ 200, 'warning not-supported BCHCIM.FC.1.0100@nickname',
            'information business-rule BCHCIM.FC.0.0012' ],
          'Prefer: handling=lenient: ignored with a warning');
get('/fhir/Patient?family=%ZZ');
is($res->code, 400, 'CR-REST-012: a bad %-escape: 400');

# ---- paging ----------------------------------------------------------------------
my $q3 = "family=${fam}x&given=Pat&birthdate=1999-09-09";
get("/fhir/Patient?$q3&_count=2");
is($res->code, 200, 'paging: _count=2: 200');
is_deeply([ $bb->{total}, scalar(patients_of($bb)) ], [ 3, 2 ],
          'paging: total 3 (every match), 2 on the page');
my %l = map { $_->{relation} => $_->{url} } @{ $bb->{link} };
like($l{next} // '', qr/_count=2&_offset=2$/, 'paging: a next link');
ok(!$l{previous}, 'paging: no previous link on the first page');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
my @page1 = map { $_->{id} } patients_of($bb);
(my $next = $l{next}) =~ s{^https?://[^/]+}{};
get($next);
my @page2 = map { $_->{id} } patients_of($bb);
is_deeply([ sort @page1, @page2 ], [ sort @three ],
          'paging: the two pages hold the three clients');
%l = map { $_->{relation} => $_->{url} } @{ $bb->{link} };
ok($l{previous} && !$l{next}, 'paging: the last page links back, not on');
get("/fhir/Patient?$q3&_count=0");
is($res->code, 400, 'paging: _count=0: 400');

# ---- plain FHIR clients keep the standard interactions -----------------------
$res = fhir_get("/fhir/Patient/$id");
is_deeply([ $res->code, json_of($res)->{resourceType} ], [ 200, 'Patient' ],
          'plain Accept: GET Patient/<id> is a FHIR read');
$res = fhir_get("/fhir/Patient/$id/_history");
is(json_of($res)->{type}, 'history', 'plain Accept: _history is FHIR '
   . 'history');
$res = fhir_get("/fhir/Patient?family=$fam");
is_deeply([ $res->code, json_of($res)->{type},
            scalar(entries_of(json_of($res), 'Parameters')) ],
          [ 200, 'searchset', 0 ], 'plain Accept: FHIR search, no BC '
          . 'Parameters');
$res = fhir_get('/fhir/Patient/_identifiersOnly?' . $PHN_Q);
is($res->code, 400, 'plain Accept: no _identifiersOnly form');
$res = fhir_get('/fhir/Patient?family=X', Accept =>
                'application/fhir+xml; BCFhirVersion=1');
is($res->code, 406, 'CR-GEN-008: an Accept without FHIR JSON: 406');

# ---- CapabilityStatement --------------------------------------------------------
$res = fhir_get('/fhir/metadata');
my $cs = json_of($res);
my %op = map { $_->{name} => $_->{definition} }
         @{ $cs->{rest}[0]{resource}[0]{operation} };
my $base = 'http://hlth.gov.bc.ca/fhir/client/OperationDefinition/';
is_deeply([ @op{qw(FindCandidates GetDemographics GetDemographics.History
                  HistoryPatient)} ],
          [ "${base}bc-patient-find-candidates",
            "${base}bc-patient-get-demographics",
            "${base}bc-patient-get-demographics",
            "${base}bc-patient-history" ],
          'the CapabilityStatement lists each operation with the IG '
          . 'OperationDefinition canonical');
like($cs->{rest}[0]{documentation}, qr/BCFhirVersion=1/,
     'the CapabilityStatement documents the BC forms (Accept)');
fhir_valid($res, 'CR-GEN-034: the CapabilityStatement is valid FHIR R4');

is(db_snapshot(), $snap, 'CR-FC-032, CR-GD-027: no BC read changed data');
