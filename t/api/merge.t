# POST [base]/Patient/$MergePatient (operations.md 5.2) and
# $UnmergePatient: survivor and non-survivors (Patient.link replaces),
# replaced-by / replaces links, identifiers moving with status merged,
# GetDemographics on the old PHN, demographics applied as a revise after
# the merge, every rejection, and an unmerge that restores the state
# before the merge exactly (both events in the history).  The IG's
# Bundle-Merge-Only-Request and -WithPayload-Request against their
# responses, field by field.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 51;

my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'ig.samples@cgi.com');
my $JSON = JSON::PP->new->canonical;
my $SD = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/';
my $MS = $SD . 'bc-merge-status-extension';

sub merge_req {
    my ($sys, $surv, @ns) = @_;
    my %o = ref $ns[-1] eq 'HASH' ? %{ pop @ns } : ();
    return bc_request(patient => {
        resourceType => 'Patient',
        identifier => [ { use => 'official', system => $sys, value => $surv } ],
        link => [ map { { extension => [ { url => $MS,
                                            valueCode => 'obsolete' } ],
                          other => { identifier => { system => $sys,
                                                     value => $_ } },
                          type => 'replaces' } } @ns ],
        %o });
}
sub gd_phn {
    my $phn = shift;
    return json_of(op_post('GetDemographics', bc_request(patient => {
        resourceType => 'Patient',
        identifier => [ { system => PHN_SYS, value => $phn } ] }), %U));
}

my ($ida, $pa) = merge_person($fha, "MA$tok", "Mergeone$tok",
                              'Alan', '1960-01-01', %U);
my ($idb, $pb) = merge_person($fha, "MB$tok", "Mergetwo$tok",
                              'Bert', '1961-02-02', %U);
my %before = (a => client_state($ida), b => client_state($idb));

# ---- merge -----------------------------------------------------------------
# CR-BND-005: the Patient of the IG's profile bc-merge-patient.
my $res = op_post('MergePatient', merge_req($fha, "MA$tok", "MB$tok",
    { meta => { profile => [ $SD . 'bc-merge-patient' ] } }), %U);
is($res->code, 200, 'CR-MRG-019, CR-BND-005: MergePatient (bc-merge-patient): 200');
my $bb = json_of($res);
is_deeply([ issues_of($bb) ], ['information business-rule BCHCIM.PM.0.0008'],
          'CR-MRG-019: BCHCIM.PM.0.0008');
is(scalar(patients_of($bb)), 0, 'CR-BND-008: no Patient in the response');
fhir_valid($res, 'CR-GEN-034: the response is valid FHIR R4');
my $sb = client_state($idb);
is($sb->{replaced_by}, $ida, 'CR-MRG-003: the non-survivor is replaced by the '
   . 'survivor');
is($sb->{active}, 0, 'CR-MRG-003: the non-survivor is inactive');
my $rb = $JSON->decode(db_row('SELECT resource FROM cr_patient WHERE id = ?',
                              $idb)->{resource});
is_deeply($rb->{link}, [ { other => { reference => "Patient/$ida" },
                           type => 'replaced-by' } ],
          'CR-MRG-003: non-survivor link replaced-by');
my $ra = $JSON->decode(db_row('SELECT resource FROM cr_patient WHERE id = ?',
                              $ida)->{resource});
is_deeply($ra->{link}, [ { other => { reference => "Patient/$idb" },
                           type => 'replaces' } ],
          'CR-MRG-004: survivor link replaces');
my @want = sort("$pa:active", "$pb:merged", "MA$tok:active",
                "MB$tok:merged");
is(client_state($ida)->{ids}, join(',', @want),
   'CR-MRG-005: the non-survivor\'s identifiers moved with status merged');
is($sb->{ids}, '', 'CR-MRG-005: the non-survivor holds no identifier');
is(client_state($ida)->{phn}, $pa,
   'CR-MRG-005: the survivor keeps its PHN');

# GetDemographics on the old PHN.
my $g = gd_phn($pb);
my ($gp) = patients_of($g);
is($gp->{id}, $ida, 'CR-MRG-005: GetDemographics on the old PHN returns the '
   . 'survivor');
ok((grep { /^warning / } issues_of($g)), 'CR-MRG-005: with the merged '
   . 'identifier warning');

# ---- rejections -------------------------------------------------------------
my $snap = db_snapshot();
for my $c (
  [ 'CR-MRG-021: unknown survivor', merge_req($fha, "NOPE$tok", "MA$tok"),
    422, 'error not-found BCHCIM.PM.2.0152' ],
  [ 'CR-MRG-006: unknown non-survivor', merge_req($fha, "MA$tok", "NO$tok"),
    422, 'error business-rule BCHCIM.PM.2.0153' ],
  [ 'CR-MRG-011: survivor = non-survivor', merge_req($fha, "MA$tok", "MA$tok"),
    422, 'error business-rule BCHCIM.PM.2.0154' ],
  [ 'CR-MRG-020: already merged', merge_req($fha, "MA$tok", "MB$tok"),
    422, 'error business-rule BCHCIM.PM.2.0155' ],
  [ 'CR-MRG-020: no link', merge_req($fha, "MA$tok"),
    422, 'error required BCHCIM.PM.2.0158' ],
  [ 'CR-EXT-004: a merge status other than obsolete or cancelled',
    do { my $q = merge_req($fha, "MA$tok", "MB$tok");
         $q->{entry}[1]{resource}{link}[0]{extension}[0]{valueCode}
             = 'retired';
         $q },
    400, 'error code-invalid BCHCIM.PM.2.0188' ],
  [ 'CR-BND-005: three entries (a second Patient)',
    do { my $q = merge_req($fha, "MA$tok", "MB$tok");
         push @{ $q->{entry} }, { %{ $q->{entry}[1] },
                                  fullUrl => 'urn:uuid:' . $tok . '-3' };
         $q },
    400, [ 'error invariant BCHCIM.PM.2.0105',
           'error invariant BCHCIM.PM.2.0109' ] ],
  [ 'CR-BND-005: a Patient of another profile',
    merge_req($fha, "MA$tok", "MB$tok",
              { meta => { profile => [ $SD . 'bc-patient' ] } }),
    400, 'error invalid BCHCIM.PM.2.0100' ],
) {
    my ($name, $req, $st, $issue) = @$c;
    my $r = op_post('MergePatient', $req, %U);
    is($r->code, $st, "$name: $st");
    my @want = ref $issue ? @$issue : ($issue);
    is_deeply([ map { s/@.*//r } issues_of(json_of($r)) ], \@want,
              "$name: @want");
}
is(db_snapshot(), $snap, 'CR-TXN-001: rejected merges changed nothing');

# ---- unmerge -------------------------------------------------------------------
$res = op_post('UnmergePatient', merge_req($fha, "MA$tok", "MB$tok"), %U);
is($res->code, 200, 'CR-UNMRG-001: UnmergePatient: 200');
is_deeply([ issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.PM.0.0157'],
          'CR-UNMRG-001: BCHCIM.PM.0.0157');
is_deeply(client_state($ida), $before{a}, 'CR-UNMRG-002: the survivor is '
          . 'exactly as '
          . 'before the merge (resource, identifiers, flags)');
is_deeply(client_state($idb), $before{b}, 'CR-UNMRG-002: the non-survivor '
          . 'is exactly as '
          . 'before the merge');
is_deeply([ map { $_->{operation} } @{ db_rows(
    'SELECT operation FROM cr_patient_version WHERE patient_id = ? ORDER BY '
    . 'version_id', $idb) } ], [ qw(add merge unmerge) ],
    'CR-UNMRG-003: the history shows both events');
($gp) = patients_of(gd_phn($pb));
is($gp->{id}, $idb, 'CR-UNMRG-004: the old PHN finds its own client again');
$res = op_post('UnmergePatient', merge_req($fha, "MA$tok", "MB$tok"), %U);
is_deeply([ $res->code, map { s/@.*//r } issues_of(json_of($res)) ],
          [ 422, 'error not-found BCHCIM.PM.2.0156' ],
          'CR-UNMRG-005: nothing left to unmerge: 422');

# ---- two source records of one person ----------------------------------------
my $iha = sprintf(SRI_SYS, 'iha-mt');
$res = op_post('RevisePatient', bc_request(patient => {
    resourceType => 'Patient',
    extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ],
    identifier => [ { system => $fha, value => "MC$tok" },
                    { system => PHN_SYS, value => $pa } ],
    name => [ { use => 'official', family => "Mergeone$tok",
                given => ['Alan'] } ],
    gender => 'male', birthDate => '1960-01-01' }), %U);
is($res->code, 200, 'setup: a second FHA record of the survivor');
$res = op_post('MergePatient', merge_req($fha, "MA$tok", "MC$tok"), %U);
is($res->code, 200, 'CR-MRG-020: merging two source records of one client');
is(db_row('SELECT status FROM cr_source_record WHERE sri_value = ?',
          "MC$tok")->{status}, 'merged', 'CR-MRG-020: the record is merged');
is(db_row('SELECT status FROM cr_identifier WHERE value = ?',
          "MC$tok")->{status}, 'merged', 'CR-MRG-020: its SRI is merged');

# ---- If-Match ------------------------------------------------------------------
my ($c, $pc) = merge_person($fha, "MD$tok", "Mergethree$tok",
                              'Carl', '1962-03-03', %U);
my $v = db_row('SELECT version_id FROM cr_patient WHERE id = ?',
               $ida)->{version_id};
$res = op_post('MergePatient', merge_req($fha, "MA$tok", "MD$tok"), %U,
               'If-Match' => 'W/"' . ($v + 5) . '"');
is($res->code, 412, 'CR-CONC-006: If-Match on the survivor: 412 when stale');

# ---- demographics with the merge (a revise after the merge) -------------------
$res = op_post('MergePatient', merge_req($fha, "MA$tok", "MD$tok", {
    name => [ { use => 'official', family => "Renamed$tok",
                given => ['Alan'] } ],
    gender => 'male', birthDate => '1960-01-01' }), %U,
    'If-Match' => qq{W/"$v"});
is($res->code, 200, 'CR-MRG-022: merge with demographics: 200');
is_deeply([ issues_of(json_of($res)) ],
          ['information business-rule BCHCIM.RP.0.0001'],
          'CR-MRG-022: BCHCIM.RP.0.0001 (IG Merge-WithPayload-Response)');
$ra = $JSON->decode(db_row('SELECT resource FROM cr_patient WHERE id = ?',
                           $ida)->{resource});
is_deeply([ map { $_->{family} } @{ $ra->{name} } ], [ "Renamed$tok" ],
          'CR-MRG-022: the survivor\'s source record was revised');

# ---- the IG examples -------------------------------------------------------------
my @ignore = (qr/^id$/, qr/^identifier\.value$/, qr/^timestamp$/,
              qr/^link\[0\]\.url$/, qr/^entry\[\d+\]\.fullUrl$/,
              qr/^entry\[\d+\]\.resource\.id$/,
              qr/^entry\[\d+\]\.resource\.text$/, qr/\.details\.text$/,
              qr/\.parameter\.(messageId|requestMessageId)\.valueString$/,
              qr/\.parameter\.messageDateTime$/);
my @extra = (qr/\.parameter\.requestParameters$/);
sub by_name {
    my $x = shift;
    for my $e (@{ $x->{entry} }) {
        my $r = $e->{resource};
        next unless ($r->{resourceType} // '') eq 'Parameters';
        $r->{parameter} = { map { $_->{name} => $_ } @{ $r->{parameter} } };
    }
    return $x;
}
for my $ex ([ 'Bundle-Merge-Only-Request.json', 'Bundle-Merge-Response.json',
              'IHA', 'CR-MRG-019' ],
            [ 'Bundle-Merge-WithPayload-Request.json',
              'Bundle-Merge-WithPayload-Response.json', 'VIHA',
              'CR-MRG-022' ],
            [ 'Bundle-Merge-SSRI-Request.json', 'Bundle-Merge-Response.json',
              'IHA', 'CR-MRG-023' ]) {
    my ($rq, $rs, $org, $cid) = @$ex;
    my $req = ig_fixture($rq);
    my $exp = ig_fixture($rs);
    my $t = unique_token();
    my $pt = $req->{entry}[1]{resource};
    my @all = ($pt->{identifier}[0],
               map { $_->{other}{identifier} } @{ $pt->{link} });
    $_->{value} .= $t for @all;
    my $i = 0;
    for my $idf (@all) {
        merge_person($idf->{system}, $idf->{value},
                     "Igmerge$t" . chr(65 + $i), 'Ivy',
                     '1970-01-0' . (++$i), %U);
    }
    push @{ $req->{entry}[0]{resource}{parameter} },
        { name => 'sender', valueIdentifier => {
            system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
            value => $org } };
    $res = op_post('MergePatient', $req, %U);
    is($res->code, 200, "$cid: $rq: 200");
    my @d = ig_compare(by_name(json_of($res)), by_name($exp),
                       ignore => \@ignore, extra => \@extra);
    is_deeply(\@d, [], "$cid: the response equals $rs field by field")
        or diag(join "\n", @d);
}
