# POST [base]/Patient/$GetDemographics (operations.md 2), its flags
# (history / withHistory, identifiersOnly), the G1 URL
# $GetDemographics.History, the G4 GET [base]/Patient/{id}/$HistoryPatient
# (9.6), merged identifiers, masked clients, and every rejection with its
# status, issue code, BCHCIM detail code and expression.  History comes
# from the stored versions (updates made through PUT).  Every response is
# checked against the FHIR R4 JSON schema; no query may change data.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 82;

my $tok = unique_token();
my $sri = sprintf(SRI_SYS, 'fha-mt');
my $ssri = sprintf(SRI_SYS, 'fha-arh');
my $ab = 'https://fhir.infoway-inforoute.ca/NamingSystem/'
         . 'ca-ab-patient-healthcare-id';
my $phn = fresh_phn();
my $srcext = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
             . 'bc-sourceId-extension';
my %base = (
    resourceType => 'Patient',
    identifier => [
        { system => PHN_SYS, value => $phn },
        { system => $sri, value => "SRI$tok" },
        { use => 'secondary', system => $ssri, value => "SSRI$tok" },
        { system => $ab, value => "AB$tok" } ],
    name => [ { use => 'official', family => 'Gdfirst', given => ['Ann'],
                extension => [ { url => $srcext, extension => [
                    { url => 'sourceID', valueString => 'FHA_MT' } ] } ] } ],
    telecom => [ { system => 'phone', value => '2505550111', use => 'home' } ],
    gender => 'female', birthDate => '1970-01-01',
    address => [ { type => 'physical', line => ['1 First St'],
                   city => 'Victoria', state => 'BC', country => 'CA' } ]);
my $id = store_patient({ %base });

# Two updates: the name, phone, gender and birth date change.
my $cur = json_of(fhir_get("/fhir/Patient/$id"));
$cur->{name} = [ { use => 'official', family => 'Gdsecond',
                   given => ['Ann'] } ];
$cur->{telecom} = [ { system => 'phone', value => '2505550222',
                      use => 'home' } ];
$cur->{gender} = 'other';
my $res = fhir_put("/fhir/Patient/$id", $cur);
is($res->code, 200, 'setup: update 1 (name, phone, gender)');
$cur = json_of($res);
$cur->{birthDate} = '1970-01-02';
$res = fhir_put("/fhir/Patient/$id", $cur);
is($res->code, 200, 'setup: update 2 (birth date)');
my ($t1, $t2, $t3) = map { $_->{last_updated} } @{ db_rows(
    'SELECT last_updated FROM cr_patient_version WHERE patient_id = ? '
    . 'ORDER BY version_id', $id) };

my $snap = db_snapshot();
my $bb;
sub gd { my ($p, @rest) = @_;
         my %o = @rest % 2 ? () : @rest;
         $res = op_post('GetDemographics', bc_request(
             params => [ { name => 'messageId', valueString => 'gd' },
                         @{ $o{params} || [] } ],
             patient => $p, entries => $o{entries}), @{ $o{headers} || [] });
         $bb = json_of($res); return $res }
sub by_id { gd({ resourceType => 'Patient', identifier =>
                 [ { system => $_[0], value => $_[1] } ] }, @_[2 .. $#_]) }
sub pat { (patients_of($bb))[0] }

# ---- look-ups -----------------------------------------------------------
by_id(PHN_SYS, $phn);
is($res->code, 200, 'CR-GD-002: by PHN: 200');
is(pat()->{id}, $id, 'CR-GD-002: the client');
is_deeply([ issues_of($bb) ], [ 'information business-rule BCHCIM.GD.0.0013' ],
          'CR-GD-011: BCHCIM.GD.0.0013');
is($bb->{total}, 1, 'CR-GD-001: total 1');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
by_id($ssri, "SSRI$tok");
is_deeply([ $res->code, pat()->{id} ], [ 200, $id ],
          'CR-GD-003: by SSRI: the parent client');
by_id($sri, "SRI$tok");
is_deeply([ $res->code, pat()->{id} ], [ 200, $id ], 'CR-GD-001: by SRI');
by_id($ab, "AB$tok");
is_deeply([ $res->code, pat()->{id} ], [ 200, $id ],
          "by another jurisdiction's number");
gd({ resourceType => 'Patient', id => $id });
is_deeply([ $res->code, pat()->{id} ], [ 200, $id ],
          'CR-GD-004: by Patient.id');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
gd({ resourceType => 'Patient', id => $phn });
is_deeply([ $res->code, pat()->{id} ], [ 200, $id ],
          'D-02: a Patient.id of ten digits is a PHN');

# ---- the composite Patient ------------------------------------------------
by_id(PHN_SYS, $phn);
my $p = pat();
is_deeply([ map { "$_->{use} $_->{system}" } @{ $p->{identifier} } ],
          [ 'official ' . PHN_SYS, "official $sri", "secondary $ssri",
            "official $ab" ],
          'CR-GD-012, CR-ID-005: PHN and SRI official, SSRI secondary');
is_deeply([ map { $_->{extension}[0]{valueCode} } @{ $p->{identifier} } ],
          [ ('active') x 4 ], 'CR-GD-013: every identifier has '
          . 'bc-identifier-status-extension active');
is_deeply([ map { $_->{extension}[0]{url} } @{ $p->{identifier} } ],
          [ ('http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
             . 'bc-identifier-status-extension') x 4 ],
          'CR-GD-013: the extension URL');
is_deeply([ map { $_->{period}{start} } @{ $p->{identifier} } ],
          [ ($t1) x 4 ], 'CR-GD-014: period.start = when the identifier '
          . 'first appeared');
is_deeply([ map { $_->{assigner}{display} } @{ $p->{identifier} }[0 .. 2] ],
          [ 'MOH Client Registry - MOH_CRS',
            'FHA Meditech - Fraser Valley - FHA_MT',
            'Abbotsford Regional Hospital' ],
          'CR-GD-014: assigner.display of the PHN, SRI and SSRI');
is_deeply([ map { $_->{family} } @{ $p->{name} } ], [ 'Gdsecond' ],
          'CR-GD-015: without history only the current name');
is($p->{name}[0]{period}{start}, $t2, 'name period.start = the version '
   . 'that introduced it');
is_deeply($p->{_gender}{extension}, [ { url =>
    'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
    . 'bc-business-period-extension', valuePeriod => { start => $t2 } } ],
    'CR-GD-025, CR-EXT-001: gender has a business period, no history');
is($p->{_birthDate}{extension}[0]{valuePeriod}{start}, $t3,
   'CR-GD-025: birthDate business period = the version that set it');
is_deeply($p->{address}[0]{extension}, [ { url =>
    'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
    . 'bc-validation-status-extension', valueCode => 'unknown' } ],
    'CR-GD-026, CR-EXT-003: address validation status (unknown)');
ok(!exists $p->{text}, 'no narrative');
is_deeply($p->{meta}{profile}, [ 'http://hlth.gov.bc.ca/fhir/client/'
                                 . 'StructureDefinition/bc-patient' ],
          'CR-PAT-001: meta.profile bc-patient');

# ---- history -------------------------------------------------------------
by_id(PHN_SYS, $phn, params => [ { name => 'history',
                                   valueBoolean => JSON::PP::true } ]);
is($res->code, 200, 'CR-GD-016: history: 200');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
$p = pat();
is_deeply([ map { [ $_->{family}, $_->{period}{start}, $_->{period}{end} ] }
            @{ $p->{name} } ],
          [ [ 'Gdsecond', $t2, undef ], [ 'Gdfirst', $t1, $t2 ] ],
          'CR-GD-016: the old name as an extra repeat with period.end, after '
          . 'the current one of its use');
is_deeply([ map { [ $_->{value}, $_->{period}{end} ] } @{ $p->{telecom} } ],
          [ [ '2505550222', undef ], [ '2505550111', $t2 ] ],
          'CR-GD-016: the old phone with period.end');
my $bp = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
         . 'bc-business-period-extension';
is_deeply($p->{_gender}{extension}, [
    { url => $bp, valuePeriod => { start => $t2 } },
    { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
             . 'bc-gender-history-extension',
      extension => [ { url => 'gender', valueCode => 'female' },
                     { url => $bp, valuePeriod => { start => $t1,
                                                    end => $t2 } } ] } ],
    'CR-GD-018, CR-EXT-006: the earlier gender in '
    . 'bc-gender-history-extension with its business period');
is_deeply($p->{_birthDate}{extension}[1], {
    url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
           . 'bc-birthdate-history-extension',
    extension => [ { url => 'birthDate', valueDate => '1970-01-01' },
                   { url => $bp, valuePeriod => { start => $t1,
                                                  end => $t3 } } ] },
    'CR-GD-018: the earlier birth date in bc-birthdate-history-extension');
is(params_of($bb)->{history}, JSON::PP::true, 'CR-GEN-026: history echoed');
my $with = pat();

by_id(PHN_SYS, $phn, params => [ { name => 'withHistory',
                                   valueBoolean => JSON::PP::true } ]);
is_deeply(pat(), $with, 'CR-GD-019: withHistory is a synonym of history '
          . '(D-03)');
is(params_of($bb)->{history}, JSON::PP::true, 'D-03: echoed as history');
$res = op_post('GetDemographics.History', bc_request(patient => {
    resourceType => 'Patient', identifier => [ { system => PHN_SYS,
                                                 value => $phn } ] }));
is_deeply([ $res->code, (patients_of(json_of($res)))[0] ], [ 200, $with ],
          '$GetDemographics.History (G1 URL): the same client with history');
$res = fhir_get("/fhir/Patient/$id/\$HistoryPatient");
is($res->code, 200, 'CR-LEG-004: GET Patient/{id}/$HistoryPatient: 200');
is_deeply((patients_of(json_of($res)))[0], $with,
          'CR-LEG-004: the same content as GetDemographics with history');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
$res = fhir_get('/fhir/Patient/00000000-0000-4000-8000-00000000dead/'
                . '$HistoryPatient');
is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
          [ 404, 'BCHCIM.GD.2.0018' ], '$HistoryPatient of an unknown '
          . 'id: 404, BCHCIM.GD.2.0018');
ok(!grep({ ($_->{url} // '') eq $srcext }
         map { @{ $_->{extension} || [] } } @{ $with->{name} }),
   'CR-GD-024: bc-sourceId-extension is not returned (no caller is '
   . 'authorised for source details)');

# ---- identifiersOnly --------------------------------------------------------
by_id(PHN_SYS, $phn, params => [ { name => 'identifiersOnly',
                                   valueBoolean => JSON::PP::true } ]);
is($res->code, 200, 'CR-GD-020: identifiersOnly: 200');
is_deeply([ sort keys %{ pat() } ], [ qw(id identifier meta resourceType) ],
          'CR-GD-020: identifiers only (and id, meta)');
is(scalar(@{ pat()->{identifier} }), 4, 'CR-GD-020: all four identifiers');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

# ---- not found and rejections --------------------------------------------
by_id($sri, "NOSUCH$tok");
is($res->code, 200, 'CR-GD-008, CR-GEN-030: unknown identifier: 200');
is_deeply([ $bb->{total}, scalar(patients_of($bb)), issues_of($bb) ],
          [ 0, 0, 'information business-rule BCHCIM.GD.0.0018' ],
          'CR-GD-008: total 0, no Patient, BCHCIM.GD.0.0018');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
my $P = 'Bundle.entry[1].resource';
gd({ resourceType => 'Patient', id => $id,
     identifier => [ { system => PHN_SYS, value => $phn } ] });
is($res->code, 400, 'CR-GD-005: both id and identifier: 400');
is_deeply([ issues_of($bb) ], [ "error business-rule BCHCIM.GD.2.0130\@$P" ],
          'CR-GD-005: business-rule BCHCIM.GD.2.0130');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
gd({ resourceType => 'Patient', name => [ { family => 'X' } ] });
is($res->code, 400, 'CR-GD-006: neither: 400');
is_deeply([ issues_of($bb) ], [ "error required BCHCIM.GD.2.0131\@$P" ],
          'CR-GD-006: required BCHCIM.GD.2.0131');
gd({ resourceType => 'Patient', identifier => [
       { system => PHN_SYS, value => $phn },
       { system => $sri, value => "SRI$tok" } ] });
is_deeply([ $res->code, issues_of($bb) ],
          [ 400, "error invariant BCHCIM.GD.2.0132\@$P.identifier" ],
          'two identifiers: 400, BCHCIM.GD.2.0132');
by_id('urn:unknown:system', 'x');
is($res->code, 422, 'CR-GD-009: unknown identifier system: 422');
is_deeply([ issues_of($bb) ],
          [ "error code-invalid BCHCIM.GD.2.0133\@$P.identifier[0].system" ],
          'CR-GD-009: code-invalid BCHCIM.GD.2.0133 at the system');
by_id(PHN_SYS, '9999999999');
is($res->code, 422, 'CR-GD-010: PHN failing the check digit: 422');
is_deeply([ issues_of($bb) ],
          [ "error business-rule BCHCIM.GD.2.0134\@$P.identifier[0].value" ],
          'CR-GD-010: business-rule BCHCIM.GD.2.0134 at the value');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
gd({ resourceType => 'Patient', identifier => [ { system => PHN_SYS } ] });
is_deeply([ $res->code, issues_of($bb) ],
          [ 400, "error required BCHCIM.GD.2.0135\@$P.identifier[0]" ],
          'an identifier without value: 400, BCHCIM.GD.2.0135');
gd({ resourceType => 'Patient', id => $id },
   entries => [ { resourceType => 'Patient', id => $id } ]);
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 400, 'BCHCIM.GD.2.0105', 'BCHCIM.GD.2.0109' ],
          'CR-GD-007, CR-BND-002: two Patients (3 entries): 400');
gd({ resourceType => 'Patient', id => $id },
   entries => [ { resourceType => 'RelatedPerson',
                  patient => { reference => 'Patient/x' } } ]);
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 400, 'BCHCIM.GD.2.0105', 'BCHCIM.GD.2.0110' ],
          'CR-GD-007: a RelatedPerson: 400');
$res = op_post('GetDemographics', bc_request());
is_deeply([ $res->code, @{ error_details(json_of($res)) } ],
          [ 400, 'BCHCIM.GD.2.0105', 'BCHCIM.GD.2.0109' ],
          'D-17: Patient 1..1 enforced');
gd({ resourceType => 'Patient', id => $id },
   params => [ { name => 'history', valueString => 'yes' } ]);
is_deeply([ $res->code, @{ error_details($bb) } ],
          [ 400, 'BCHCIM.GD.2.0108' ], 'CR-PARAM-002: history not '
          . 'boolean: 400');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

# ---- merged identifiers ------------------------------------------------------
# The merge operation (issue 5) does not exist yet; the two states it
# leaves are set directly: (a) an identifier moved to the survivor with
# status merged, (b) a non-survivor record replaced_by the survivor.
my $oldsri = "OLD$tok";
my $sid = store_patient({ resourceType => 'Patient',
    identifier => [ { system => $sri, value => "SURV$tok" },
                    { system => $sri, value => $oldsri } ],
    name => [ { family => 'Survivor', given => ['Sam'] } ],
    birthDate => '1980-05-05' });
my $gone_phn = fresh_phn();
my $gone = store_patient({ resourceType => 'Patient',
    identifier => [ { system => PHN_SYS, value => $gone_phn } ],
    name => [ { family => 'Survivor', given => ['Sam'] } ],
    birthDate => '1980-05-05' });
db_dbh()->do(q{UPDATE cr_identifier SET status = 'merged'
               WHERE patient_id = ? AND value = ?}, undef, $sid, $oldsri);
db_dbh()->do(q{UPDATE cr_patient SET replaced_by = ?, active = 0
               WHERE id = ?}, undef, $sid, $gone);
$snap = db_snapshot();
my $oo_ex = ig_fixture('OperationOutcome-OperationOutcome-Search-Example.json');
by_id($sri, $oldsri);
is_deeply([ $res->code, pat()->{id} ], [ 200, $sid ],
          'CR-GD-021: a merged identifier returns the surviving client');
my ($w) = grep { $_->{severity} eq 'warning' } @{ outcome_of($bb)->{issue} };
is_deeply([ $w->{severity}, $w->{code}, $w->{details}{coding}[0]{system},
            $w->{details}{coding}[0]{code}, $w->{details}{text} ],
          [ $oo_ex->{issue}[0]{severity}, $oo_ex->{issue}[0]{code},
            $oo_ex->{issue}[0]{details}{coding}[0]{system},
            'BCHCIM.GD.1.0015',
            'The identifier you used in the query has been merged. The '
            . 'surviving identifier was returned.' ],
          'CR-GD-021: the warning of OperationOutcome-Search-Example.json '
          . '(its code BCHIM.GD.0.0015 is a typo: BCHCIM.GD.1.0015, a '
          . 'warning, CR-OO-005)');
ok(grep({ $_ eq 'information business-rule BCHCIM.GD.0.0013' }
        issues_of($bb)), 'CR-GD-021: and the success information');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
ok(!grep({ $_->{value} eq $oldsri } @{ pat()->{identifier} }),
   'CR-GD-015: without history the merged identifier is not listed');
by_id(PHN_SYS, $gone_phn, params => [ { name => 'history',
                                        valueBoolean => JSON::PP::true } ]);
is_deeply([ $res->code, pat()->{id}, scalar(grep { /GD\.1\.0015/ }
                                            issues_of($bb)) ],
          [ 200, $sid, 1 ], 'CR-GD-021: the PHN of a merged-away record '
          . 'returns the survivor, with the warning');
my ($mi) = grep { $_->{value} eq $oldsri } @{ pat()->{identifier} };
ok($mi && $mi->{extension}[0]{valueCode} eq 'merged' && $mi->{period}{end},
   'CR-GD-017: with history the merged identifier: status merged, '
   . 'period.end');
gd({ resourceType => 'Patient', id => $gone });
is_deeply([ $res->code, pat()->{id} ], [ 200, $sid ],
          'CR-GD-021: the id of a merged-away record: the survivor');

# ---- masked -----------------------------------------------------------------
my $mphn = fresh_phn();
my $mid = store_patient({ resourceType => 'Patient',
    meta => { security => [ { system =>
        'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
        code => 'V' } ] },
    identifier => [ { system => PHN_SYS, value => $mphn } ],
    name => [ { use => 'usual', family => 'Hidden', given => ['Hana'] },
              { use => 'nickname', given => ['Hh'] } ],
    telecom => [ { system => 'phone', value => '2505550999', use => 'home' } ],
    gender => 'female', birthDate => '1985-08-08',
    address => [ { type => 'postal', line => ['PO Box 1'], city => 'Hope',
                   state => 'BC', country => 'CA' } ] });
my $mc = json_of(fhir_get("/fhir/Patient/$mid"));
$mc->{name}[0]{family} = 'Hiddentwo';
is(fhir_put("/fhir/Patient/$mid", $mc)->code, 200, 'setup: a masked client '
   . 'with an earlier name');
$snap = db_snapshot();
by_id(PHN_SYS, $mphn, params => [ { name => 'history',
                                    valueBoolean => JSON::PP::true } ]);
is($res->code, 200, 'CR-GD-022: a masked client: 200');
$p = pat();
my $mask = { url => 'http://hl7.org/fhir/StructureDefinition/'
                    . 'data-absent-reason', valueCode => 'masked' };
is_deeply($p->{name}, [ { extension => [ $mask ], use => 'usual' },
                        { extension => [ $mask ], use => 'nickname' } ],
          'CR-GD-022, CR-GD-023: names masked (use kept), no old name');
is_deeply($p->{telecom}, [ { extension => [ $mask ], system => 'phone',
                             use => 'home' } ], 'CR-GD-022: telecom masked');
is_deeply($p->{address}, [ { extension => [ $mask ], type => 'postal' } ],
          'CR-GD-022: address masked');
is_deeply([ $p->{gender}, $p->{birthDate}, $p->{_gender},
            $p->{_birthDate} ],
          [ undef, undef, { extension => [ $mask ] },
            { extension => [ $mask ] } ],
          'CR-GD-022, CR-EXT-009: gender and birth date masked, no history');
is($p->{identifier}[0]{value}, $mphn, 'a masked client keeps its '
   . 'identifiers');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
is(db_row('SELECT masked FROM cr_patient WHERE id = ?', $mid)->{masked}, 1,
   'the store keeps masked = 1 after the update');

is(db_snapshot(), $snap, 'CR-GD-027: no query of this file changed data');
