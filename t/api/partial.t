# $PartialUpdatePatient (operations.md 9.4) and its G2 name
# $PartialRevisePatient: per-element add / replace / delete on the source
# record named by the request's one identifier (which must exist), the
# invariant-update-1 rule, If-Match, and the IG's
# Bundle-Bundle-UpdatePatient-Request-Example (replace the physical
# address).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 22;

my $tok = unique_token();
my $iha = sprintf(SRI_SYS, 'iha-iha');
my %U = (UserId => 'ig.samples@cgi.com');
my $OPX = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
          . 'bc-update-patient-operation-extension';
my $OPS = 'https://terminology.hlth.gov.bc.ca/ClientRegistry/CodeSystem/'
          . 'bc-client-registry-update-patient-operation-code-system';
sub op { [ { url => $OPX, valueCodeableConcept => { coding => [
    { system => $OPS, code => $_[0] } ] } } ] }

my $res = op_post('RevisePatient', bc_request(patient => {
    resourceType => 'Patient',
    extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ],
    identifier => [ { use => 'official', system => $iha,
                      value => "PU$tok" } ],
    name => [ { use => 'official', family => "Partial$tok",
                given => ['Pat'] } ],
    telecom => [ { system => 'phone', value => '2505550101', use => 'home' },
                 { system => 'email', value => 'p@example.org',
                   use => 'home' } ],
    gender => 'female', birthDate => '1990-09-09',
    address => [ { type => 'physical', line => ['1 Old Rd'],
                   city => 'Nelson', state => 'BC', country => 'CA' },
                 { type => 'postal', line => ['PO Box 1'],
                   city => 'Nelson', state => 'BC', country => 'CA' } ] }),
    %U);
is($res->code, 201, 'setup: the client');
my ($p) = patients_of(json_of($res));
my $id = $p->{id};
my ($phn) = map { $_->{value} } grep { $_->{system} eq PHN_SYS }
            @{ $p->{identifier} };

sub upd {
    my ($name, %pt) = @_;
    my $h = delete $pt{headers} || {};
    return op_post($name, bc_request(patient => { resourceType => 'Patient',
        %pt }), %U, %$h);
}
my @ident = (identifier => [ { system => $iha, value => "PU$tok" } ]);

# ---- IG example: replace the physical address --------------------------------
my $req = ig_fixture('Bundle-Bundle-UpdatePatient-Request-Example.json');
$req->{entry}[1]{resource}{identifier}[0]{value} = "PU$tok";
$res = op_post('PartialUpdatePatient', $req, %U);
is($res->code, 200, 'CR-UPD-001, CR-LEG-003: Bundle-Bundle-UpdatePatient-Request-'
   . 'Example: 200');
is_deeply([ issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.RP.0.0021'],
          'CR-UPD-001: BCHCIM.RP.0.0021');
fhir_valid($res, 'CR-GEN-034: the response is valid FHIR R4');
($p) = patients_of(json_of($res));
is_deeply([ map { "$_->{type}:$_->{line}[0]" } @{ $p->{address} } ],
          [ 'postal:PO Box 1', 'physical:721 FRONT ST' ],
          'CR-UPD-001: the physical address replaced, the postal kept');
is(db_row("SELECT period_end FROM cr_attribute WHERE patient_id = ? AND "
          . "kind = 'address' AND value LIKE '%Old Rd%'", $id)->{period_end}
   // '', substr(db_row('SELECT last_updated FROM cr_patient WHERE id = ?',
                        $id)->{last_updated}, 0, 24),
   'CR-UPD-002: the replaced address ended (kept as history)');

# ---- add, delete, replace ---------------------------------------------------
$res = upd('PartialUpdatePatient', @ident,
           telecom => [ { extension => op('add'), system => 'phone',
                          value => '2505550202', use => 'work' } ]);
is($res->code, 200, 'CR-UPD-003: add a phone: 200');
($p) = patients_of(json_of($res));
is_deeply([ sort map { $_->{value} } @{ $p->{telecom} } ],
          [ '2505550101', '2505550202', 'p@example.org' ],
          'CR-UPD-003: the phone was added, the others kept');
$res = upd('PartialRevisePatient', @ident,
           telecom => [ { extension => op('delete'), system => 'email',
                          value => 'p@example.org', use => 'home' } ]);
is($res->code, 200, 'CR-UPD-004: $PartialRevisePatient delete the e-mail: '
   . '200');
($p) = patients_of(json_of($res));
is_deeply([ sort map { $_->{value} } @{ $p->{telecom} } ],
          [ '2505550101', '2505550202' ], 'CR-UPD-004: the e-mail ended');
$res = upd('PartialUpdatePatient', @ident, gender => 'male',
           _gender => { extension => op('replace') });
is($res->code, 200, 'CR-UPD-005: replace the gender: 200');
($p) = patients_of(json_of($res));
is($p->{gender}, 'male', 'CR-UPD-005: gender replaced');
is($p->{name}[0]{family}, "Partial$tok", 'CR-UPD-005: the name untouched');
# By PHN (the registry's member record).
$res = upd('PartialUpdatePatient',
           identifier => [ { system => PHN_SYS, value => $phn } ],
           name => [ { extension => op('add'), use => 'nickname',
                       given => ['Patsy'] } ]);
is($res->code, 200, 'CR-UPD-006: by PHN: 200');
($p) = patients_of(json_of($res));
is(scalar(@{ $p->{name} }), 2, 'CR-UPD-006: the nickname was added');

# ---- rejections --------------------------------------------------------------
my $before = db_snapshot();
$res = upd('PartialUpdatePatient',
           identifier => [ { system => $iha, value => "NOPE$tok" } ],
           gender => 'female');
is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
          [ 422, 'BCHCIM.RP.2.0159' ], 'CR-UPD-010: unknown identifier: '
          . '422 BCHCIM.RP.2.0159');
$res = upd('PartialUpdatePatient', @ident);
is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
          [ 400, 'BCHCIM.RP.2.0160' ], 'CR-UPD-011, CR-INV-003: nothing to change: '
          . '400 BCHCIM.RP.2.0160 (invariant-update-1)');
$res = upd('PartialUpdatePatient',
           identifier => [ @{ $ident[1] },
                           { system => PHN_SYS, value => $phn } ],
           gender => 'female');
is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
          [ 422, 'BCHCIM.RP.2.0159' ], 'CR-UPD-012: two identifiers: 422');
$res = upd('PartialUpdatePatient', @ident,
           telecom => [ { extension => [ { url => $OPX, valueCodeableConcept
                          => { coding => [ { system => $OPS,
                                             code => 'upsert' } ] } } ],
                          system => 'phone', value => '1' } ]);
is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
          [ 422, 'BCHCIM.RP.2.0161' ], 'CR-UPD-013: unknown operation code: '
          . '422');
my $v = db_row('SELECT version_id FROM cr_patient WHERE id = ?',
               $id)->{version_id};
$res = upd('PartialUpdatePatient', @ident, gender => 'female',
           headers => { 'If-Match' => 'W/"' . ($v - 1) . '"' });
is($res->code, 412, 'CR-UPD-014: stale If-Match: 412');
is(db_snapshot(), $before, 'CR-TXN-001: rejected updates changed nothing');
$res = upd('PartialUpdatePatient', @ident, gender => 'female',
           headers => { 'If-Match' => qq{W/"$v"} });
is($res->code, 200, 'CR-UPD-015: current If-Match: 200');
