# Setting and clearing a client's restriction (meta.security
# v3-Confidentiality R or V; N or no label lifts it, operations.md 0.7)
# through every write path -- REST create and update, $RevisePatient,
# $PartialUpdatePatient, $MergePatient -- each with the store's flag and
# its audit record.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 22;

my $tok = unique_token();
my $CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
my $BP = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-business-period-extension';
my %U = (UserId => 'restrict@test');
sub label { { security => [ { system => $CONF, code => $_[0] } ] } }
sub masked { db_row('SELECT masked FROM cr_patient WHERE id = ?', $_[0])->{masked} }
sub audited {
    my ($op, $id) = @_;
    my $n = db_row('SELECT COUNT(*) AS n FROM cr_audit a JOIN cr_audit_patient '
                   . 'p ON p.seq = a.seq WHERE a.operation = ? AND '
                   . 'p.patient_id = ?', $op, $id)->{n};
    return $n;
}
sub masked_view {
    my $id = shift;
    my $p = json_of(fhir_get("/fhir/Patient/$id"));
    return ($p->{name}[0]{extension}[0]{valueCode} // '') eq 'masked';
}

# ---- REST ---------------------------------------------------------------
my $p = sample_patient(family => "Restfam$tok");
$p->{meta} = label('R');
my $res = fhir_post('/fhir/Patient', $p, %U);
is($res->code, 201, 'REST create with meta.security R: 201');
my $id = json_of($res)->{id};
is(masked($id), 1, 'REST create: restricted');
ok(masked_view($id), 'REST create: read back masked');
ok(audited('create', $id), 'REST create: its audit record');
delete $p->{meta};
$res = fhir_put("/fhir/Patient/$id", { %$p, id => $id }, %U);
is_deeply([ $res->code, masked($id) ], [ 200, 0 ],
          'REST update without the label: lifted');
ok(!masked_view($id) && audited('update', $id),
   'REST update: read back open; its audit record');
$p->{meta} = label('V');
$res = fhir_put("/fhir/Patient/$id", { %$p, id => $id }, %U);
is_deeply([ $res->code, masked($id) ], [ 200, 1 ],
          'REST update with V: restricted again');

# ---- $RevisePatient -------------------------------------------------------
my $sri = sprintf(SRI_SYS, 'fha-mt');
sub snap {
    my ($label, $start) = @_;
    return { resourceType => 'Patient',
             ($label ? (meta => label($label)) : ()),
             extension => [ { url => $BP, valuePeriod => { start => $start } } ],
             identifier => [ { use => 'official', system => $sri,
                               value => "RS$tok" } ],
             name => [ { use => 'official', family => "Revrest$tok",
                         given => ['Ruth'] } ],
             gender => 'female', birthDate => '1966-06-16',
             address => [ { type => 'physical', line => ['5 Hidden Way'],
                            city => 'Victoria', state => 'BC',
                            country => 'CA' } ] };
}
$res = op_post('RevisePatient', bc_request(patient => snap('R', '2024-01-01')),
               %U);
is($res->code, 201, '$RevisePatient with meta.security R: 201');
my ($rp) = patients_of(json_of($res));
my $rid = $rp->{id};
is(masked($rid), 1, '$RevisePatient: the source\'s label is kept: restricted');
ok(masked_view($rid) && audited('RevisePatient', $rid),
   '$RevisePatient: read back masked; its audit record');
$res = op_post('RevisePatient', bc_request(patient => snap('N', '2024-02-01')),
               %U);
is_deeply([ $res->code, masked($rid) ], [ 200, 0 ],
          '$RevisePatient with N: lifted');
$res = op_post('RevisePatient', bc_request(patient => snap('V', '2024-03-01')),
               %U);
is_deeply([ $res->code, masked($rid) ], [ 200, 1 ],
          '$RevisePatient with V: restricted again');

# ---- $PartialUpdatePatient --------------------------------------------------
sub partial {
    my ($label, $start) = @_;
    return op_post('PartialUpdatePatient', bc_request(patient => {
        resourceType => 'Patient', meta => label($label),
        extension => [ { url => $BP, valuePeriod => { start => $start } } ],
        identifier => [ { system => $sri, value => "RS$tok" } ] }), %U);
}
$res = partial('N', '2024-04-01');
is_deeply([ $res->code, masked($rid) ], [ 200, 0 ],
          '$PartialUpdatePatient with meta.security N: lifted');
ok(!masked_view($rid) && audited('PartialUpdatePatient', $rid),
   '$PartialUpdatePatient: read back open; its audit record');
$res = partial('R', '2024-05-01');
is_deeply([ $res->code, masked($rid) ], [ 200, 1 ],
          '$PartialUpdatePatient with R: restricted');
ok(masked_view($rid), '$PartialUpdatePatient: read back masked');

# ---- $MergePatient -----------------------------------------------------------
my $MS = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-merge-status-extension';
sub person {
    my ($v, $label, $dob) = @_;
    my $r = op_post('RevisePatient', bc_request(patient => {
        %{ snap($label, '2024-01-01') },
        identifier => [ { use => 'official', system => $sri, value => $v } ],
        name => [ { use => 'official', family => "Mrgrest$v",
                    given => ['Max'] } ],
        gender => 'male', birthDate => $dob,
        address => [ { type => 'physical', line => ["$v Street"],
                       city => 'Nelson', state => 'BC', country => 'CA' } ],
        }), %U);
    my ($pp) = patients_of(json_of($r));
    return $pp->{id};
}
sub merge {
    my ($label, $surv, $gone) = @_;
    return op_post('MergePatient', bc_request(patient => {
        resourceType => 'Patient', meta => label($label),
        identifier => [ { use => 'official', system => $sri,
                          value => $surv } ],
        link => [ { extension => [ { url => $MS, valueCode => 'obsolete' } ],
                    other => { identifier => { system => $sri,
                                               value => $gone } },
                    type => 'replaces' } ] }), %U);
}
my $s1 = person("MS$tok", undef, '1951-01-11');
my $g1 = person("MG$tok", 'R', '1952-02-12');
is_deeply([ masked($s1), masked($g1) ], [ 0, 1 ],
          'setup: an open survivor, a restricted record to merge into it');
$res = merge('R', "MS$tok", "MG$tok");
is($res->code, 200, '$MergePatient with meta.security R: 200');
is(masked($s1), 1, '$MergePatient with R: the survivor is restricted');
ok(masked_view($s1) && audited('MergePatient', $s1),
   '$MergePatient: read back masked; its audit record');
my $s2 = person("NS$tok", 'V', '1953-03-13');
my $g2 = person("NG$tok", undef, '1954-04-14');
$res = merge('N', "NS$tok", "NG$tok");
is_deeply([ $res->code, masked($s2) ], [ 200, 0 ],
          '$MergePatient with N: the restricted survivor is lifted');
ok(!masked_view($s2), '$MergePatient with N: read back open');
