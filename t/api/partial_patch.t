# $PartialRevisePatient in the G2 FHIR-Patch form (CR-LEG-002,
# operations.md 9.3, docs/partial-revise-patch.md): a Parameters with
# messageId, messageDate, PHN, sender, enterer and patchOperation, applied
# to the client holding the PHN.  Each supported operation with the stored
# state afterwards; the where() rule (selects regardless of use; several
# keys: the replace's value decides, else 422 BCHCIM.RP.2.0168); nothing
# selected (0167); unsupported forms (0166) and a malformed request
# (0165) naming the operation's part; one transaction for all
# operations; If-Match; idempotent messageId; the output policy on a
# restricted client's answer.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 48;

my $tok = unique_token();
my $iha = sprintf(SRI_SYS, 'iha-iha');
my %U = (UserId => 'ig.samples@cgi.com');
my $JSON = JSON::PP->new->canonical;
my $BP = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-business-period-extension';

sub client {
    my ($sri, $family, %o) = @_;
    my $res = op_post('RevisePatient', bc_request(patient => {
        resourceType => 'Patient',
        ($o{label} ? (meta => { security => [ {
            system => 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
            code => $o{label} } ] }) : ()),
        extension => [ { url => $BP, valuePeriod => { start => '2024-01-01' } } ],
        identifier => [ { use => 'official', system => $iha, value => $sri } ],
        name => [ { use => 'official', family => $family, given => ['Pat'] } ],
        telecom => [ { system => 'phone', value => '2505550101', use => 'home' },
                     { system => 'phone', value => '2505550102', use => 'work' },
                     { system => 'email', value => 'p@example.org',
                       use => 'home' } ],
        gender => 'female', birthDate => '1990-09-09',
        address => [ { type => 'physical', line => ['1 Old Rd'],
                       city => 'Nelson', state => 'BC', country => 'CA' },
                     { type => 'postal', line => ['PO Box 1'],
                       city => 'Nelson', state => 'BC', country => 'CA' } ] }),
        %U);
    die 'setup: ' . $res->code . $res->content unless $res->code == 201;
    my ($p) = patients_of(json_of($res));
    my ($phn) = map { $_->{value} } grep { $_->{system} eq PHN_SYS }
                @{ $p->{identifier} };
    return ($p->{id}, $phn);
}

my ($id, $phn) = client("PP$tok", "Patchfam$tok");
my $n = 0;
# The G2 request: the IG example's envelope (Parameters-PartialRevise-
# Patient-Example) with the PHN it lacks, and these operations.
sub req {
    my ($p, @ops) = @_;
    return { resourceType => 'Parameters', parameter => [
        { name => 'messageId', valueString => "patch-$tok-" . ++$n },
        { name => 'messageDateTime',
          valueDateTime => '2021-11-02T13:28:17-08:00' },
        { name => 'PHN', valueString => $p },
        { name => 'sender', valueIdentifier => {
            system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
            value => 'PHARM' } },
        { name => 'enterer', valueIdentifier => {
            system => 'http://hlth.gov.bc.ca/fhir/client/bc-user',
            value => 'klgodfre' } },
        { name => 'patchOperation', resource => {
            resourceType => 'Parameters',
            parameter => [ map { { name => 'operation', part => $_ } }
                           @ops ] } } ] };
}
sub type { { name => 'type', valueCode => $_[0] } }
sub path { { name => 'path', valueString => $_[0] } }
sub value { my ($k, $v) = @_; { name => 'value', "value$k" => $v } }
sub patch { op_post('PartialRevisePatient', @_, %U) }
sub stored { $JSON->decode(db_row('SELECT resource FROM cr_patient WHERE '
                                  . 'id = ?', $_[0])->{resource}) }
sub version { db_row('SELECT version_id FROM cr_patient WHERE id = ?',
                     $_[0])->{version_id} }
sub current {
    my ($pid, $kind) = @_;
    return [ sort map { $_->{value} } @{ db_rows(
        'SELECT value FROM cr_attribute WHERE patient_id = ? AND kind = ? '
        . 'AND period_end IS NULL', $pid, $kind) } ];
}
sub tels { [ sort map { "$_->{system}|$_->{use}|$_->{value}" }
             @{ $_[0]{telecom} || [] } ] }
sub addrs { [ sort map { "$_->{type}|$_->{line}[0]" }
              @{ $_[0]{address} || [] } ] }
sub issue_at { my $b = shift; [ map { s/^\S+ \S+ //r } issues_of($b) ] }
my $ig_path = "Patient.address.where(type = 'physical')";
my $OPX = 'Parameters.parameter[5].resource.parameter';

# ---- the IG example ----------------------------------------------------------
# As published it has no type part: refused, naming the operation.
my $before = db_snapshot();
my $res = patch(req($phn, [ path($ig_path) ]));
is($res->code, 400, 'CR-LEG-002: the IG example as published (no type): 400');
is_deeply(issue_at(json_of($res)), [ "BCHCIM.RP.2.0165\@${OPX}[0]" ],
          'CR-LEG-002: BCHCIM.RP.2.0165 at the operation');
is(db_snapshot(), $before, 'CR-LEG-002: nothing stored');

# With type delete: the physical address goes.
my $v0 = version($id);
$res = patch(req($phn, [ type('delete'), path($ig_path) ]));
is($res->code, 200, 'CR-LEG-002: the IG example with type delete: 200')
    or diag $res->content;
my $b = json_of($res);
is_deeply([ issues_of($b) ], ['information business-rule BCHCIM.RP.0.0021'],
          'CR-LEG-002: BCHCIM.RP.0.0021, answered like a Revise');
is(params_of($b)->{requestMessageId}, "patch-$tok-$n",
   'CR-LEG-002: requestMessageId is the request\'s messageId');
my ($p) = patients_of($b);
is_deeply(addrs($p), [ 'postal|PO Box 1' ],
          'CR-LEG-002: the answer\'s Patient has no physical address');
is_deeply(addrs(stored($id)), [ 'postal|PO Box 1' ],
          'CR-LEG-002: stored: no physical address');
is(scalar(grep { /physical/ } @{ current($id, 'address') }), 0,
   'CR-LEG-002: stored: its attribute ended');
is(version($id), $v0 + 1, 'CR-LEG-002: stored: one new version');
is(db_row('SELECT operation FROM cr_patient_version WHERE patient_id = ? '
          . 'AND version_id = ?', $id, $v0 + 1)->{operation},
   'partial-revise', 'CR-LEG-002: stored: the version\'s operation');

# Deleting it again selects nothing.
$before = db_snapshot();
$res = patch(req($phn, [ type('delete'), path($ig_path) ]));
is($res->code, 422, 'CR-LEG-002: delete of an address the client no longer '
   . 'has: 422');
is_deeply(issue_at(json_of($res)), [ "BCHCIM.RP.2.0167\@${OPX}[0].part[1]" ],
          'CR-LEG-002: BCHCIM.RP.2.0167 at the path');
is(db_snapshot(), $before, 'CR-LEG-002: nothing stored');

# ---- where() and use --------------------------------------------------------------
# where(system = 'phone') selects two keys (home, work): a delete does not
# say which.
$before = db_snapshot();
$res = patch(req($phn, [ type('delete'),
                         path("Patient.telecom.where(system = 'phone')") ]));
is($res->code, 422, 'CR-LEG-002: where(system = \'phone\') over a home and '
   . 'a work phone, delete: 422');
is_deeply(issue_at(json_of($res)), [ "BCHCIM.RP.2.0168\@${OPX}[0].part[1]" ],
          'CR-LEG-002: BCHCIM.RP.2.0168 (ambiguous) at the path');
is(db_snapshot(), $before, 'CR-LEG-002: nothing stored');
# A replace whose value has use work: that key is the one replaced.
$res = patch(req($phn, [ type('replace'),
                         path("Patient.telecom.where(system = 'phone')"),
                         value(ContactPoint => { system => 'phone',
                             value => '2505550199', use => 'work' }) ]));
is($res->code, 200, 'CR-LEG-002: the same where() in a replace whose value '
   . 'is a work phone: 200') or diag $res->content;
is_deeply(tels(stored($id)), [ 'email|home|p@example.org',
                               'phone|home|2505550101',
                               'phone|work|2505550199' ],
          'CR-LEG-002: stored: the work phone replaced, the home phone kept');
is(scalar(grep { /2505550102/ } @{ current($id, 'telecom') }), 0,
   'CR-LEG-002: stored: the old work phone\'s attribute ended');
# Both conditions select one key.
$res = patch(req($phn, [ type('delete'), path(
    "Patient.telecom.where(system = 'phone' and use = 'home')") ]));
is($res->code, 200, 'CR-LEG-002: where(system and use): 200');
is_deeply(tels(stored($id)), [ 'email|home|p@example.org',
                               'phone|work|2505550199' ],
          'CR-LEG-002: stored: the home phone deleted');

# ---- add, insert, singles, several operations ---------------------------------
$v0 = version($id);
$res = patch(req($phn,
    [ type('add'), path('Patient'), { name => 'name',
      valueString => 'address' }, value(Address => { type => 'physical',
      line => ['9 New Rd'], city => 'Castlegar', state => 'BC',
      country => 'CA' }) ],
    [ type('replace'), path('Patient.gender'), value(Code => 'male') ],
    [ type('insert'), path('Patient.name'), { name => 'index',
      valueInteger => 0 }, value(HumanName => { use => 'usual',
      family => "Patchfam$tok", given => ['Patty'] }) ]));
is($res->code, 200, 'CR-LEG-002: add an address, replace the gender, insert '
   . 'a name, in one request: 200') or diag $res->content;
my $s = stored($id);
is_deeply(addrs($s), [ 'physical|9 New Rd', 'postal|PO Box 1' ],
          'CR-LEG-002: stored: the address added');
is($s->{gender}, 'male', 'CR-LEG-002: stored: the gender replaced');
is_deeply([ sort map { $_->{use} } @{ $s->{name} } ], [ 'official', 'usual' ],
          'CR-LEG-002: stored: the name inserted beside the official one');
is(version($id), $v0 + 1, 'CR-LEG-002: stored: one version for the three '
   . 'operations');

# ---- one transaction ----------------------------------------------------------------
$before = db_snapshot();
my $attrs = db_row('SELECT COUNT(*) AS n FROM cr_attribute WHERE patient_id = '
                   . '? AND period_end IS NULL', $id)->{n};
$res = patch(req($phn,
    [ type('replace'), path('Patient.gender'), value(Code => 'female') ],
    [ type('delete'), path("Patient.telecom.where(system = 'fax')") ]));
is($res->code, 422, 'CR-LEG-002: a valid operation then one selecting '
   . 'nothing: 422');
is_deeply(issue_at(json_of($res)), [ "BCHCIM.RP.2.0167\@${OPX}[1].part[1]" ],
          'CR-LEG-002: BCHCIM.RP.2.0167 names the second operation');
is(db_snapshot(), $before, 'CR-LEG-002: nothing stored (the first '
   . 'operation rolled back too)');
is(stored($id)->{gender}, 'male', 'CR-LEG-002: stored: the gender as before');
is(db_row('SELECT COUNT(*) AS n FROM cr_attribute WHERE patient_id = ? AND '
          . 'period_end IS NULL', $id)->{n}, $attrs,
   'CR-LEG-002: stored: the attributes as before');

# ---- unsupported forms, bad input -------------------------------------------------
$before = db_snapshot();
$res = patch(req($phn, [ type('move'), path('Patient.name'),
                         { name => 'source', valueInteger => 0 },
                         { name => 'destination', valueInteger => 1 } ]));
is_deeply([ $res->code, @{ issue_at(json_of($res)) } ],
          [ 422, "BCHCIM.RP.2.0166\@${OPX}[0].part[0]" ],
          'CR-LEG-002: move: 422 BCHCIM.RP.2.0166 at the type');
$res = patch(req($phn, [ type('replace'),
    path("Patient.address.where(type = 'physical').city"),
    value(String => 'Trail') ]));
is_deeply([ $res->code, @{ issue_at(json_of($res)) } ],
          [ 422, "BCHCIM.RP.2.0166\@${OPX}[0].part[1]" ],
          'CR-LEG-002: a path below the selected element: 422 '
          . 'BCHCIM.RP.2.0166 at the path');
$res = patch(req($phn, [ type('replace'), path($ig_path),
                         value(Address => { type => 'physical',
                               use => 'bogus', line => ['1 Any Rd'],
                               city => 'Trail' }) ]));
is($res->code, 422, 'CR-LEG-002: an address the profile refuses: 422');
like(join(' ', @{ issue_at(json_of($res)) }),
     qr/\Q${OPX}[0]\E\.address\[0\]\.use/,
     'CR-LEG-002: the problem named in the operation\'s value');
$res = patch(req('9999999999', [ type('delete'), path($ig_path) ]));
is_deeply([ $res->code, @{ issue_at(json_of($res)) } ],
          [ 422, 'BCHCIM.RP.2.0141@Parameters.parameter[2].valueString' ],
          'CR-LEG-002: a PHN with a bad check digit: 422 at the PHN');
$res = patch(req(fresh_phn(), [ type('delete'), path($ig_path) ]));
is_deeply([ $res->code, @{ issue_at(json_of($res)) } ],
          [ 422, 'BCHCIM.RP.2.0159@Parameters.parameter[2].valueString' ],
          'CR-LEG-002: a PHN no client holds: 422 BCHCIM.RP.2.0159');
is(db_snapshot(), $before, 'CR-LEG-002: the refusals stored nothing');

# ---- If-Match, messageId ---------------------------------------------------------
$v0 = version($id);
$res = patch(req($phn, [ type('replace'), path('Patient.birthDate'),
                         value(Date => '1990-09-10') ]),
             'If-Match' => 'W/"' . ($v0 - 1) . '"');
is($res->code, 412, 'CR-LEG-002: a stale If-Match: 412');
my $again = req($phn, [ type('replace'), path('Patient.birthDate'),
                        value(Date => '1990-09-10') ]);
$res = patch($again, 'If-Match' => qq{W/"$v0"});
is($res->code, 200, 'CR-LEG-002: the current If-Match: 200');
is(stored($id)->{birthDate}, '1990-09-10', 'CR-LEG-002: stored: the birth '
   . 'date replaced');
my $first = json_of($res);
$res = patch($again, 'If-Match' => qq{W/"$v0"});
ok($res->code == 200 && $JSON->encode(json_of($res)) eq $JSON->encode($first),
   'CR-PARAM-004: the same request repeated: the original answer');
is(version($id), $v0 + 1, 'CR-PARAM-004: ... and no second version');

# ---- the output policy -------------------------------------------------------------
my $secret = "Secretpatch$tok";
my ($rid, $rphn) = client("PR$tok", $secret, label => 'R');
$res = patch(req($rphn, [ type('replace'), path('Patient.gender'),
                          value(Code => 'male') ]));
is($res->code, 200, 'CR-LEG-002: a restricted client patched: 200');
ok(index($res->content, $secret) < 0
   && index($res->content, '"masked"') >= 0,
   'operations.md 0.7: its answer is masked for a caller that is not '
   . 'privileged');
is(stored($rid)->{gender}, 'male', 'CR-LEG-002: stored: the restricted '
   . 'client\'s gender replaced');

# ---- the CapabilityStatement ----------------------------------------------------
my ($cpat) = grep { $_->{type} eq 'Patient' }
             @{ json_of(fhir_get('/fhir/metadata'))->{rest}[0]{resource} };
my ($cop) = grep { $_->{name} eq 'PartialRevisePatient' }
            @{ $cpat->{operation} || [] };
is($cop && $cop->{definition}, 'http://hl7.org/fhir/ca-bc/client/'
   . 'OperationDefinition/bc-patient-partial-revise',
   'CR-LEG-002: the CapabilityStatement lists PartialRevisePatient with '
   . 'the G2 OperationDefinition');
