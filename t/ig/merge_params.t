# POST [base]/Patient/$merge and $merge.Async (operations.md 5.1,
# DECISION-09): plain Parameters in and out; each side by reference and/or
# identifiers resolving to exactly one client; result-patient (the
# target's id, a replaces link to the source, its demographics applied
# after the merge, the root effective date); bc-merge-status-extension;
# every rejection with its status, BCHCIM code and an unchanged store;
# the async form checked at once with $merge's rules; $UnmergePatient
# undoing merges made by reference and by identifier.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Time::HiRes qw(sleep);
use CR::Test;
use CR::BC;

plan tests => 86;

my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'ig.samples@cgi.com');
my $JSON = JSON::PP->new->canonical;
my $SD = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/';
my $BP = $SD . 'bc-business-period-extension';
my $MS = $SD . 'bc-merge-status-extension';

sub resource { $JSON->decode(db_row('SELECT resource FROM cr_patient WHERE '
                                    . 'id = ?', $_[0])->{resource}) }
sub ops_of {
    return join ' ', map { $_->{operation} } @{ db_rows(
        'SELECT operation FROM cr_patient_version WHERE patient_id = ? '
        . 'ORDER BY version_id', $_[0]) };
}
sub ref_p { { name => $_[0], valueReference => {
                  reference => "Patient/$_[1]" } } }
sub id_p {
    my ($name, $value, $status, $sys) = @_;
    return { name => $name, valueIdentifier => {
        system => $sys // $fha, value => $value,
        ($status ? (extension => [ { url => $MS, valueCode => $status } ])
                 : ()) } };
}
sub result_p {
    my ($id, $src, %o) = @_;
    return { name => 'result-patient', resource => {
        resourceType => 'Patient', id => $id,
        extension => [ { url => $BP, valuePeriod => { start => '2025-01-01' } } ],
        link => [ { type => 'replaces',
                    other => { reference => "Patient/$src" } } ],
        %o } };
}
sub merge {
    my ($params, @h) = @_;
    return op_post('merge', { resourceType => 'Parameters',
                              parameter => $params }, %U, @h);
}
sub param {
    my ($b, $name) = @_;
    my ($p) = grep { $_->{name} eq $name } @{ $b->{parameter} || [] };
    return $p ? $p->{resource} : undef;
}
# "severity code detail@expression" of the outcome's issues.
sub pissues {
    my $oo = param(shift, 'outcome') or return ('no outcome');
    return map {
        my $d = $_->{details}{coding}[0]{code} // '-';
        my $x = $_->{expression} ? '@' . $_->{expression}[0] : '';
        "$_->{severity} $_->{code} $d$x"
    } @{ $oo->{issue} || [] };
}

my ($ida, $pa) = merge_person($fha, "PA$tok", "Mergepa$tok",
                              'Alan', '1960-01-01', %U);
my ($idb, $pb) = merge_person($fha, "PB$tok", "Mergepb$tok",
                              'Bert', '1961-02-02', %U);
my ($idc, $pc) = merge_person($fha, "PC$tok", "Mergepc$tok",
                              'Cora', '1962-03-03', %U);
my ($idd, $pd) = merge_person($fha, "PD$tok", "Mergepd$tok",
                              'Dora', '1963-04-04', %U);
my ($ide, $pe) = merge_person($fha, "PE$tok", "Mergepe$tok",
                              'Emil', '1964-05-05', %U);
my ($idf, $pf) = merge_person($fha, "PF$tok", "Mergepf$tok",
                              'Fred', '1965-06-06', %U);
my %before = (a => client_state($ida), b => client_state($idb),
              c => client_state($idc), d => client_state($idd));

# ---- by reference, with result-patient and demographics ----------------------
my $res = merge([ ref_p('source-patient', $idb), ref_p('target-patient', $ida),
                  result_p($ida, $idb, name => [ { use => 'official',
                      family => "Mergedpa$tok", given => ['Alan'] } ],
                      gender => 'male', birthDate => '1960-01-01') ]);
is($res->code, 200, 'CR-MRG-001: $merge by references: 200');
my $b = json_of($res);
is($b->{resourceType}, 'Parameters', 'CR-MRG-002: the answer is Parameters');
is_deeply([ pissues($b) ], ['information business-rule BCHCIM.PM.0.0008'],
          'CR-MRG-002: outcome BCHCIM.PM.0.0008');
my $rp = param($b, 'result');
is($rp->{id}, $ida, 'CR-MRG-002: result is the target');
is_deeply([ grep { $_->{type} eq 'replaces' } @{ $rp->{link} || [] } ],
          [ { other => { reference => "Patient/$idb" }, type => 'replaces' } ],
          'CR-MRG-004: result links replaces the source');
is(param($b, 'input')->{parameter}[0]{name}, 'source-patient',
   'DECISION-09: input echoes the request');
fhir_valid($res, 'CR-GEN-034: the answer is valid FHIR R4');
my $sb = client_state($idb);
is($sb->{replaced_by}, $ida, 'CR-MRG-003: the source is replaced by the target');
is($sb->{active}, 0, 'CR-MRG-003: the source is inactive');
is_deeply(resource($idb)->{link}, [ { other => { reference => "Patient/$ida" },
                                      type => 'replaced-by' } ],
          'CR-MRG-003: source link replaced-by');
is_deeply(resource($ida)->{link}, [ { other => { reference => "Patient/$idb" },
                                      type => 'replaces' } ],
          'CR-MRG-004: target link replaces');
is(client_state($ida)->{ids}, join(',', sort("$pa:active", "$pb:merged",
                                      "PA$tok:active", "PB$tok:merged")),
   'CR-MRG-005: the source\'s identifiers moved with status merged');
is_deeply([ map { $_->{family} } @{ resource($ida)->{name} } ],
          [ "Mergedpa$tok" ], 'CR-MRG-015: the result-patient\'s name was '
          . 'applied after the merge');
is(resource($ida)->{birthDate}, '1960-01-01', 'CR-MRG-015: birth date kept');
like(ops_of($idb), qr/ merge$/, 'CR-MRG-003: the source\'s history ends with '
     . 'the merge');
like(ops_of($ida), qr/ merge$/, 'CR-MRG-004: the target\'s history ends with '
     . 'the merge');
is(db_row('SELECT ns_system, ns_value FROM cr_merge_event WHERE '
          . 'nonsurvivor_id = ? AND status = ?', $idb, 'merged')->{ns_value},
   $pb, 'CR-UNMRG-001: a source named by reference is recorded by its PHN');

# ---- by identifiers, without result-patient -----------------------------------
$res = merge([ id_p('target-patient-identifier', "PC$tok"),
               id_p('source-patient-identifier', "PD$tok", 'obsolete') ]);
is($res->code, 200, 'CR-MRG-014: $merge by identifiers, no result-patient: '
   . '200');
is_deeply([ pissues(json_of($res)) ],
          ['information business-rule BCHCIM.PM.0.0008'],
          'CR-MRG-014: BCHCIM.PM.0.0008');
is(client_state($idc)->{ids}, join(',', sort("$pc:active", "$pd:merged",
                                      "PC$tok:active", "PD$tok:merged")),
   'CR-MRG-014: every source identifier copied to the target (merged)');
is_deeply(resource($idc)->{link}, [ { other => { reference => "Patient/$idd" },
                                      type => 'replaces' } ],
          'CR-MRG-014: and the link added');
is(client_state($idd)->{replaced_by}, $idc, 'CR-MRG-016: obsolete accepted');
is_deeply([ map { $_->{family} } @{ resource($idc)->{name} } ],
          [ "Mergepc$tok" ], 'CR-MRG-014: the target\'s demographics unchanged');

# ---- rejections -----------------------------------------------------------------
my $snap = db_snapshot();
my $rs = result_p($ide, $idf);
for my $c (
  [ 'CR-MRG-009: no target', [ ref_p('source-patient', $idf) ],
    400, 'error required BCHCIM.PM.2.0181' ],
  [ 'CR-MRG-010: no source', [ ref_p('target-patient', $ide) ],
    400, 'error required BCHCIM.PM.2.0182' ],
  [ 'CR-MRG-006: source identifier of no client',
    [ ref_p('target-patient', $ide), id_p('source-patient-identifier',
                                          "NONE$tok") ],
    422, 'error not-found BCHCIM.PM.2.0183@Parameters.parameter[1]'
         . '.valueIdentifier' ],
  [ 'CR-MRG-006: source reference to no client',
    [ ref_p('target-patient', $ide), ref_p('source-patient', "no$tok") ],
    422, 'error not-found BCHCIM.PM.2.0183' ],
  [ 'CR-MRG-007: source identifiers of two clients',
    [ ref_p('target-patient', $ide), id_p('source-patient-identifier',
      "PF$tok"), id_p('source-patient-identifier', "PA$tok") ],
    422, 'error business-rule BCHCIM.PM.2.0184@Parameters.parameter[2]'
         . '.valueIdentifier' ],
  [ 'CR-MRG-007: source reference and identifier disagree',
    [ ref_p('target-patient', $ide), ref_p('source-patient', $idf),
      id_p('source-patient-identifier', "PA$tok") ],
    422, 'error business-rule BCHCIM.PM.2.0184' ],
  [ 'CR-MRG-008: target identifier of no client',
    [ id_p('target-patient-identifier', "NONE$tok"),
      ref_p('source-patient', $idf) ],
    422, 'error not-found BCHCIM.PM.2.0152' ],
  [ 'CR-MRG-008: target reference and identifier disagree',
    [ ref_p('target-patient', $ide), id_p('target-patient-identifier',
      "PA$tok"), ref_p('source-patient', $idf) ],
    422, 'error business-rule BCHCIM.PM.2.0185' ],
  [ 'CR-MRG-008: target merged away', [ ref_p('target-patient', $idb),
                                        ref_p('source-patient', $idf) ],
    422, 'error not-found BCHCIM.PM.2.0152' ],
  [ 'CR-MRG-011: source = target', [ ref_p('target-patient', $ide),
      id_p('source-patient-identifier', "PE$tok") ],
    422, 'error business-rule BCHCIM.PM.2.0154' ],
  [ 'CR-MRG-011: already merged source', [ ref_p('target-patient', $ide),
      ref_p('source-patient', $idd) ],
    422, 'error business-rule BCHCIM.PM.2.0155' ],
  [ 'CR-MRG-011: source identifier already merged away (D into C)',
    [ ref_p('target-patient', $ide), id_p('source-patient-identifier',
                                          "PD$tok") ],
    422, 'error business-rule BCHCIM.PM.2.0155@Parameters.parameter[1]'
         . '.valueIdentifier' ],
  [ 'CR-MRG-012: result-patient id not the target',
    [ ref_p('target-patient', $ide), ref_p('source-patient', $idf),
      result_p($idf, $idf) ],
    422, 'error business-rule BCHCIM.PM.2.0186@Parameters.parameter[2]'
         . '.resource.id' ],
  [ 'CR-MRG-013: result-patient without a link to the source',
    [ ref_p('target-patient', $ide), ref_p('source-patient', $idf),
      result_p($ide, $ida) ],
    422, 'error business-rule BCHCIM.PM.2.0187' ],
  [ 'CR-MRG-016: other merge status code',
    [ ref_p('target-patient', $ide), id_p('source-patient-identifier',
      "PF$tok", 'retired') ],
    400, 'error code-invalid BCHCIM.PM.2.0188' ],
  [ 'CR-MRG-017: result-patient without effective date',
    [ ref_p('target-patient', $ide), ref_p('source-patient', $idf),
      { name => 'result-patient', resource => { %{ $rs->{resource} },
                                                extension => [] } } ],
    422, 'error required BCHCIM.RP.2.0163' ],
  [ 'CR-MRG-002: preview is not supported',
    [ ref_p('target-patient', $ide), ref_p('source-patient', $idf),
      { name => 'preview', valueBoolean => JSON::PP::true } ],
    400, 'error not-supported BCHCIM.PM.2.0189' ],
  [ 'CR-MRG-002: unknown parameter',
    [ ref_p('target-patient', $ide), ref_p('source-patient', $idf),
      { name => 'survivor', valueString => 'x' } ],
    400, 'error structure BCHCIM.PM.2.0180' ],
  [ 'CR-MRG-002: reference not to a Patient',
    [ { name => 'target-patient', valueReference => {
          reference => "Practitioner/$ide" } }, ref_p('source-patient', $idf) ],
    400, 'error structure BCHCIM.PM.2.0180' ],
) {
    my ($name, $params, $st, $issue) = @$c;
    my $r = merge($params);
    my @got = pissues(json_of($r));
    @got = map { s/@.*//r } @got unless $issue =~ /@/;
    is_deeply([ $r->code, @got ], [ $st, $issue ], "$name: $st $issue");
}
$res = op_post('merge', bc_request(patient => { resourceType => 'Patient' }),
               %U);
is_deeply([ $res->code, map { s/@.*//r } pissues(json_of($res)) ],
          [ 400, 'error structure BCHCIM.PM.2.0180' ],
          'CR-MRG-002: a Bundle is not the $merge request: 400');
$res = op_post('merge', { resourceType => 'Parameters', parameter => [
    ref_p('target-patient', $ide), ref_p('source-patient', $idf) ] });
is_deeply([ $res->code, map { s/@.*//r } pissues(json_of($res)) ],
          [ 400, 'error required BCHCIM.RP.2.0143' ],
          'CR-MRG-001: no user id: 400');
is(db_snapshot(), $snap, 'CR-TXN-001: rejected merges changed nothing');
is(client_state($ide)->{active}, 1, 'CR-TXN-001: E untouched');
is(client_state($idf)->{replaced_by}, undef, 'CR-TXN-001: F not merged');

# ---- If-Match ----------------------------------------------------------------
my $v = db_row('SELECT version_id FROM cr_patient WHERE id = ?',
               $ide)->{version_id};
$res = merge([ ref_p('target-patient', $ide), ref_p('source-patient', $idf) ],
             'If-Match' => 'W/"' . ($v + 3) . '"');
is_deeply([ $res->code, map { s/@.*//r } pissues(json_of($res)) ],
          [ 412, 'error conflict BCHCIM.RP.2.0150' ],
          'CR-CONC-006: If-Match on the target: 412 when stale');

# ---- unmerge of both kinds -------------------------------------------------------
my $MRG = sub {
    my ($surv, $sys, $ns) = @_;
    return bc_request(patient => {
        resourceType => 'Patient',
        identifier => [ { system => $fha, value => $surv } ],
        link => [ { type => 'replaces', other => { identifier => {
            system => $sys, value => $ns } } } ] });
};
$res = op_post('UnmergePatient', $MRG->("PC$tok", $fha, "PD$tok"), %U);
is($res->code, 200, 'CR-UNMRG-001: $UnmergePatient undoes a $merge by '
   . 'identifiers: 200');
is_deeply(client_state($idc), $before{c}, 'CR-UNMRG-002: the target is as before');
is_deeply(client_state($idd), $before{d}, 'CR-UNMRG-002: the source is as before');
$res = op_post('UnmergePatient', $MRG->("PA$tok", PHN_SYS, $pb), %U);
is($res->code, 200, 'CR-UNMRG-001: $UnmergePatient undoes a $merge by '
   . 'references (the source\'s PHN): 200');
is_deeply([ map { s/@.*//r } issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.PM.0.0157'],
          'CR-UNMRG-001: BCHCIM.PM.0.0157');
is_deeply(client_state($idb), $before{b}, 'CR-UNMRG-002: the source is as before');
is(client_state($ida)->{ids}, $before{a}{ids}, 'CR-UNMRG-002: the target gave the '
   . 'identifiers back');
is(client_state($ida)->{replaced_by}, undef, 'CR-UNMRG-002: target not replaced');
is(resource($ida)->{link}, undef, 'CR-UNMRG-002: the replaces link is gone');
like(ops_of($idb), qr/ merge unmerge$/, 'CR-UNMRG-003: the history shows '
     . 'both events');

# A merge made by $MergePatient, undone, then made again by $merge.
$res = op_post('MergePatient', $MRG->("PA$tok", $fha, "PB$tok"), %U);
is($res->code, 200, 'CR-MRG-019: the same pair merged by $MergePatient');
$res = op_post('UnmergePatient', $MRG->("PA$tok", $fha, "PB$tok"), %U);
is($res->code, 200, 'CR-UNMRG-001: and unmerged');
$res = merge([ ref_p('target-patient', $ida),
               id_p('source-patient-identifier', "PB$tok", 'cancelled'),
               result_p($ida, $idb) ]);
is($res->code, 200, 'CR-MRG-016: cancelled accepted; the pair merged again '
   . 'by $merge');
is(client_state($idb)->{replaced_by}, $ida, 'CR-MRG-003: merged again');
$res = op_post('UnmergePatient', $MRG->("PA$tok", $fha, "PB$tok"), %U);
is($res->code, 200, 'CR-UNMRG-001: unmerged by the identifier $merge named');
is(client_state($idb)->{replaced_by}, undef, 'CR-UNMRG-002: B is its own again');

# ---- $merge.Async ---------------------------------------------------------------
sub job { db_row('SELECT * FROM cr_async_job WHERE message_id = ?', $_[0]) }
my $mid = "merge-async-bad-$tok";
$res = merge([ ref_p('source-patient', $idf) ], 'Request-Id' => $mid);
is_deeply([ $res->code, map { s/@.*//r } pissues(json_of($res)) ],
          [ 400, 'error required BCHCIM.PM.2.0181' ],
          'CR-ASYNC-004 (sync twin): the same rule');
$res = op_post('merge.Async', { resourceType => 'Parameters', parameter => [
    ref_p('source-patient', $idf) ] }, %U, 'Request-Id' => $mid);
is_deeply([ $res->code, map { s/@.*//r } pissues(json_of($res)) ],
          [ 400, 'error required BCHCIM.PM.2.0181' ],
          'CR-ASYNC-004: $merge.Async without target: 400 at once');
ok(!job($mid), 'CR-ASYNC-004: and not queued');
$mid = "merge-async-unknown-$tok";
$res = op_post('merge.Async', { resourceType => 'Parameters', parameter => [
    ref_p('target-patient', $ide),
    id_p('source-patient-identifier', "NONE$tok") ] }, %U,
    'Request-Id' => $mid);
is_deeply([ $res->code, map { s/@.*//r } pissues(json_of($res)) ],
          [ 422, 'error not-found BCHCIM.PM.2.0183' ],
          'CR-ASYNC-004: $merge.Async with an unknown source: 422 at once');
ok(!job($mid), 'CR-ASYNC-004: and not queued');
is(client_state($ide)->{active}, 1, 'CR-ASYNC-004: nothing written');

$mid = "merge-async-$tok";
$res = op_post('merge.Async', { resourceType => 'Parameters', parameter => [
    ref_p('target-patient', $ide), ref_p('source-patient', $idf) ] }, %U,
    'Request-Id' => $mid);
is($res->code, 202, 'CR-ASYNC-008: $merge.Async: 202');
my $ack = json_of($res);
is_deeply([ issues_of($ack) ], ['information business-rule BCHCIM.RP.0.0007'],
          'CR-ASYNC-002: the acknowledgement');
is(params_of($ack)->{requestMessageId}, $mid,
   'CR-ASYNC-003: requestMessageId is the Request-Id');
my $j;
for (1 .. 600) {   # up to 60 s: the worker polls, and a busy machine is slow
    $j = job($mid);
    last if $j && $j->{executed};
    sleep 0.1;
}
is_deeply([ $j->{operation}, $j->{executed}, $j->{result_status} ],
          [ 'merge', 1, 200 ], 'CR-ASYNC-008: the worker ran $merge: 200');
my $jr = $JSON->decode($j->{result} // '{}');
is_deeply([ pissues($jr) ], ['information business-rule BCHCIM.PM.0.0008'],
          'CR-ASYNC-008: its answer is the $merge Parameters');
is(client_state($idf)->{replaced_by}, $ide, 'CR-ASYNC-008: F merged into E');
is_deeply(resource($ide)->{link}, [ { other => { reference => "Patient/$idf" },
                                      type => 'replaces' } ],
          'CR-ASYNC-008: E replaces F');

# ---- a target written only through the RESTful API -----------------------------
my (undef, $rest) = create_patient(family => "Restpr$tok");
my $idr = $rest->{id};
my ($idi) = merge_person($fha, "PI$tok", "Mergepi$tok", 'Ivan', '1968-09-09',
                         %U);
$res = merge([ ref_p('target-patient', $idr), ref_p('source-patient', $idi),
               result_p($idr, $idi, name => [ { use => 'official',
                   family => "Renamedpr$tok", given => ['Alice'] } ]) ]);
is($res->code, 200, 'CR-MRG-015: $merge into a client without a source '
   . 'record: 200');
is_deeply([ map { s/@.*//r } pissues(json_of($res)) ],
          [ 'information business-rule BCHCIM.PM.0.0008',
            'warning informational BCHCIM.PM.1.0100' ],
          'CR-MRG-015: with a warning that the demographics were not applied');
is(client_state($idi)->{replaced_by}, $idr, 'CR-MRG-003: merged all the same');
is_deeply([ map { $_->{family} } @{ resource($idr)->{name} } ],
          [ "Restpr$tok" ], 'CR-MRG-015: the name is unchanged, as the '
          . 'warning says');

# ---- output policy and audit --------------------------------------------------------
my $CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
$res = op_post('RevisePatient', bc_request(patient => {
    resourceType => 'Patient',
    meta => { security => [ { system => $CONF, code => 'R' } ] },
    extension => [ { url => $BP, valuePeriod => { start => '2024-01-01' } } ],
    identifier => [ { use => 'official', system => $fha, value => "PG$tok" } ],
    name => [ { use => 'official', family => "Secretpg$tok",
                given => ['Gail'] } ],
    gender => 'female', birthDate => '1966-07-07',
    address => [ { type => 'physical', line => ['7 Hidden St'],
                   city => 'Kelowna', state => 'BC', country => 'CA' } ] }),
    %U);
my ($idg) = map { $_->{id} } patients_of(json_of($res));
my ($idh) = merge_person($fha, "PH$tok", "Mergeph$tok", 'Hank', '1967-08-08',
                         %U);
$res = merge([ ref_p('target-patient', $idg), ref_p('source-patient', $idh),
               result_p($idg, $idh) ]);
is($res->code, 200, 'CR-EXT-009: $merge into a restricted client: 200');
$rp = param(json_of($res), 'result');
is($rp->{name}[0]{extension}[0]{valueCode} // '', 'masked',
   'CR-EXT-009: the result Patient is masked for a caller without '
   . 'privilege');
unlike($res->content, qr/Secretpg$tok/, 'CR-EXT-009: its name appears '
       . 'nowhere in the answer');
is(db_row('SELECT COUNT(*) AS n FROM cr_audit a JOIN cr_audit_patient p ON '
          . 'p.seq = a.seq WHERE a.operation = ? AND p.patient_id = ?',
          'merge', $idh)->{n}, 1, 'operations.md 0.7: the merge is audited with '
   . 'the source');

# ---- the CapabilityStatement -------------------------------------------------------
my $cs = json_of(fhir_get('/fhir/metadata'));
my %ops = map { $_->{name} => $_->{definition} }
          map { @{ $_->{operation} || [] } }
          grep { $_->{type} eq 'Patient' } @{ $cs->{rest}[0]{resource} };
is_deeply([ @ops{qw(merge merge.Async)} ],
          [ ('http://hlth.gov.bc.ca/fhir/client/OperationDefinition/'
             . 'bc-patient-merge') x 2 ],
          'CR-MRG-001: the CapabilityStatement lists $merge and $merge.Async');
