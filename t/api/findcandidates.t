# POST [base]/Patient/$FindCandidates (operations.md 1): criteria rules,
# ranking, identifiersOnly, masked clients, mother's PHN, every rejection
# with its status, issue code, BCHCIM detail code and expression, and the
# shared request envelope (GEN, PARAM, BND).  Every response is checked
# against the FHIR R4 JSON schema; no request may change stored data.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 115;

my $fam = unique_name('Fcfam');
my $given = 'Odalys';
my $phone = '250' . (1000000 + int(rand(8999999)));
my $postal = 'V9Z 4' . chr(65 + int(rand(26))) . '7';
sub person {
    my %o = @_;
    my $p = { resourceType => 'Patient',
              name => [ { use => $o{use} // 'official',
                          family => $o{family} // $fam,
                          given => [ $o{given} // $given ] } ] };
    $p->{birthDate} = $o{birthDate} if $o{birthDate};
    $p->{gender} = $o{gender} if $o{gender};
    $p->{telecom} = [ { system => 'phone', value => $o{phone},
                        use => 'home' } ] if $o{phone};
    $p->{address} = [ { type => "physical",
                        ($o{line} ? (line => [ $o{line} ]) : ()),
                        city => "Victoria", state => "BC", country => "CA",
                        ($o{postal} ? (postalCode => $o{postal}) : ()) } ]
        if $o{line} || $o{postal};
    $p->{meta} = $o{meta} if $o{meta};
    $p->{identifier} = $o{identifier} if $o{identifier};
    $p->{contained} = $o{contained} if $o{contained};
    return $p;
}

# The clients: the exact one, a namesake with another birth date, a
# masked one, a mother with two babies.
my $exact = store_patient(person(birthDate => '1961-07-15',
                                 gender => 'female', phone => $phone,
                                 line => '12 Oak St', postal => $postal));
my $namesake = store_patient(person(birthDate => '1975-01-02',
                                    gender => 'female', phone => $phone));
my $mfam = unique_name('Masked');
my $masked = store_patient(person(family => $mfam, birthDate => '1944-04-04',
    gender => 'male', line => '9 Secret Rd',
    meta => { security => [ { system =>
        'http://terminology.hl7.org/CodeSystem/v3-Confidentiality',
        code => 'R' } ] }));
my $mphn = fresh_phn();
my $bfam = unique_name('Newborn');
my $mother = store_patient(person(family => $bfam, given => 'Mum',
    birthDate => '1990-02-02', identifier => [ { system => PHN_SYS,
                                                 value => $mphn } ]));
my @babies = map { store_patient(person(family => $bfam, given => $_,
    birthDate => '2025-01-01', contained => mother_of($mphn))) }
    qw(Twinone Twintwo);
is(db_row('SELECT masked FROM cr_patient WHERE id = ?', $masked)->{masked},
   1, 'setup: a restricted client is stored with masked = 1');

# A man and his sister at one address, for the engine's ranking.
my $tfam = unique_name('Kowalczyk');
my $robert = store_patient(person(family => $tfam, given => 'Robert',
                                  birthDate => '1970-03-09', gender => 'male',
                                  postal => $postal));
my $rtwin = store_patient(person(family => $tfam, given => 'Ingrid',
                                 birthDate => '1970-03-09',
                                 gender => 'female', postal => $postal));

my $snap = db_snapshot();
my ($res, $bb);
sub fc { my ($p, @h) = @_; $res = op_post('FindCandidates', $p, @h);
         $bb = json_of($res); return $res }
sub fc_person { fc(bc_request(patient => person(@_))) }

# ---- criteria ------------------------------------------------------------
fc_person(birthDate => '1961-07-15');
is($res->code, 200, 'CR-FC-014: name + birth date: 200');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
is((patients_of($bb))[0]{id}, $exact, 'CR-FC-021: the exact client first');
is_deeply([ issues_of($bb) ], [ 'information business-rule BCHCIM.FC.0.0012' ],
          'CR-FC-007, CR-OO-002: one information issue BCHCIM.FC.0.0012');
my @sc = map { $_->{search}{score} } entries_of($bb, 'Patient');
is_deeply(\@sc, [ sort { $b <=> $a } @sc ], 'CR-FC-005: ordered by '
          . 'descending score');
ok(!grep({ $_->{search}{mode} ne 'match' || $_->{search}{score} !~ /^\d+$/ }
         entries_of($bb, 'Patient')),
   'CR-FC-004: every Patient entry: mode match, an integer score (D-13)');
is($bb->{total}, scalar(patients_of($bb)), 'CR-FC-006: total = Patient '
   . 'entries');
my ($oe) = entries_of($bb, 'OperationOutcome');
is($oe->{search}{mode}, 'outcome', 'CR-FC-003: the outcome entry has '
   . 'search.mode outcome');
is($bb->{meta}{profile}[0], 'http://hlth.gov.bc.ca/fhir/client/'
   . 'StructureDefinition/bc-search-response-bundle',
   'CR-GEN-033: Bundle meta.profile bc-search-response-bundle');
ok(!grep({ !$_->{fullUrl} } @{ $bb->{entry} }), 'CR-GEN-027: every entry '
   . 'has a fullUrl');
is(scalar(entries_of($bb, 'OperationOutcome')), 1, 'CR-GEN-028: exactly '
   . 'one OperationOutcome');
is(scalar(entries_of($bb, 'Parameters')), 1, 'CR-GEN-022: exactly one '
   . 'Parameters');

fc_person(phone => $phone);
is($res->code, 200, 'CR-FC-015: name + phone: 200');
is_deeply([ sort map { $_->{id} } patients_of($bb) ],
          [ sort $exact, $namesake ], 'CR-FC-015: both clients with that '
          . 'name and phone');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
fc_person(line => '12 Oak St');
is($res->code, 200, 'CR-FC-016: name + address line: 200');
is((patients_of($bb))[0]{id}, $exact, 'CR-FC-016: the client at that '
   . 'address');
fc_person(postal => $postal);
is($res->code, 200, 'CR-FC-017: name + postal code: 200');
is((patients_of($bb))[0]{id}, $exact, 'CR-FC-017: the client with that '
   . 'postal code');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

fc_person(birthDate => '1961-07-15', use => 'usual');
my @u = map { $_->{id} } patients_of($bb);
fc_person(birthDate => '1961-07-15', use => 'official');
is_deeply([ map { $_->{id} } patients_of($bb) ], \@u,
          'CR-FC-019: name.use does not change the result');

fc_person(birthDate => '1961-07-15', phone => $phone, gender => 'female',
          line => '12 Oak St', postal => $postal);
my ($first, $second) = entries_of($bb, 'Patient');
ok($first->{resource}{id} eq $exact && $first->{search}{score}
   > ($second ? $second->{search}{score} : 0),
   'CR-FC-021: an exact demographic match has the highest score');

# The matching engine ranks (issue 6): typos, nicknames and a day/month
# swap still find the client; the score is the engine's weight in tenths
# of a bit (D-13).
(my $typo = $tfam) =~ s/^Kowalczyk/Kowlaczyk/;
fc_person(family => $typo, given => 'Bob', birthDate => '1970-09-03',
          postal => $postal);
is($res->code, 200, 'CR-FC-014: misspelt family, nickname, swapped day '
   . 'and month: 200');
is((patients_of($bb))[0]{id}, $robert, 'CR-FC-021: the engine finds the '
   . 'client under a transposition, a nickname and a day/month swap');
my %score = map { $_->{resource}{id} => $_->{search}{score} }
            entries_of($bb, 'Patient');
ok(!exists $score{$rtwin} || $score{$rtwin} < $score{$robert},
   'CR-FC-005: the sister at the same address ranks below him');
fc_person(family => $tfam, given => 'Robert', birthDate => '1970-03-09',
          gender => 'male', postal => $postal);
my ($top) = entries_of($bb, 'Patient');
ok($top->{resource}{id} eq $robert && $top->{search}{score} > $score{$robert}
   && $top->{search}{score} >= 100 && $top->{search}{score} < 1000,
   'D-13: the exact copy scores higher than the misspelt query, within '
   . '100..999 (' . ($top->{search}{score} // 'none') . ')');
my $copy = $top->{search}{score};
fc_person(family => unique_name('Nobody'), given => 'Robert',
          birthDate => '1970-03-09');
%score = map { $_->{resource}{id} => $_->{search}{score} }
         entries_of($bb, 'Patient');
ok(($score{$robert} // 0) * 2 < $copy, 'D-13: the same first name and '
   . 'birth date under another family name (a marriage, or a stranger) '
   . 'scores less than half the exact copy (' . ($score{$robert} // 'none')
   . ')');

fc_person(family => unique_name('Nobody'), birthDate => '1901-01-01');
is($res->code, 200, 'CR-FC-020, CR-GEN-030: no match: 200');
is($bb->{total}, 0, 'CR-FC-020: total 0');
is(scalar(patients_of($bb)), 0, 'CR-FC-020: no Patient entries');
is_deeply([ issues_of($bb) ], [ 'information business-rule BCHCIM.FC.0.0018' ],
          'CR-FC-020: an information issue (BCHCIM.FC.0.0018, no results)');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

# ---- rejections ---------------------------------------------------------
my $P = 'Bundle.entry[1].resource';
fc(bc_request(patient => { resourceType => 'Patient',
                           birthDate => '1961-07-15' }));
is($res->code, 422, 'CR-FC-011: no name: 422');
is_deeply([ issues_of($bb) ], [ "error business-rule BCHCIM.FC.2.0121\@$P.name" ],
          'CR-FC-011: business-rule BCHCIM.FC.2.0121 at the name');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
fc(bc_request(patient => { resourceType => 'Patient',
    name => [ { family => $fam } ], birthDate => '1961-07-15' }));
is($res->code, 422, 'CR-FC-012: family without given: 422');
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0121' ],
          'CR-FC-012: BCHCIM.FC.2.0121');
fc_person(gender => 'female');
is($res->code, 422, 'CR-FC-013: name (and gender) only: 422');
is_deeply([ issues_of($bb) ], [ "error business-rule BCHCIM.FC.2.0122\@$P" ],
          'CR-FC-013: business-rule BCHCIM.FC.2.0122');
fc(bc_request(patient => { resourceType => 'Patient', gender => 'male' }));
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0121', 'BCHCIM.FC.2.0122' ],
          'CR-OO-007: both problems listed');
for my $w ('Fr*', 'Fr%n', 'Fr?n') {
    fc_person(family => $w, birthDate => '1961-07-15');
    is($res->code, 422, "CR-FC-018: wildcard in '$w': 422");
    is_deeply([ issues_of($bb) ],
              [ "error business-rule BCHCIM.FC.2.0123\@$P.name[0].family" ],
              "CR-FC-018: BCHCIM.FC.2.0123 at the family name ('$w')");
}
fc_person(phone => '250*', birthDate => '1961-07-15');
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0123' ],
          'CR-FC-018: a wildcard in the phone too');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

fc(bc_request(patient => person(birthDate => '1961-07-15'),
              related => { resourceType => 'RelatedPerson',
                           identifier => [ { system => PHN_SYS,
                                             value => $mphn } ],
                           patient => { reference => 'Patient/x' } }));
is($res->code, 400, 'CR-FC-008, CR-INV-001: Patient and RelatedPerson: 400');
is_deeply([ issues_of($bb) ],
          [ 'error invariant BCHCIM.FC.2.0120@Bundle.entry' ],
          'CR-FC-008: invariant BCHCIM.FC.2.0120 (invariant-fc-1)');
fc(bc_request());
is($res->code, 400, 'CR-FC-009: neither Patient nor RelatedPerson: 400');
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0105' ],
          'CR-FC-009, CR-BND-001: one entry is below 2..3');
fc(bc_request(entries => [ { resourceType => 'Basic' } ]));
is($res->code, 400, 'CR-FC-009: Parameters + another type only: 400');
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0113' ],
          'CR-FC-009: the entry of an unknown type');
fc(bc_request(patient => person(birthDate => '1961-07-15'),
              entries => [ person(birthDate => '1961-07-15') ]));
is($res->code, 400, 'CR-FC-010: two Patients: 400');
is_deeply([ issues_of($bb) ],
          [ 'error invariant BCHCIM.FC.2.0109@Bundle.entry' ],
          'CR-FC-010: invariant BCHCIM.FC.2.0109');
fc(bc_request(patient => person(birthDate => '1961-07-15'),
              entries => [ person(), person() ]));
is($res->code, 400, 'CR-BND-001: four entries: 400');
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0105', 'BCHCIM.FC.2.0109' ],
          'CR-BND-001: entry count and Patient count');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

# ---- identifiersOnly, masked ----------------------------------------------
fc(bc_request(params => [ { name => 'messageId', valueString => 'io-1' },
                          { name => 'identifiersOnly',
                            valueBoolean => JSON::PP::true } ],
              patient => person(birthDate => '1961-07-15')));
is($res->code, 200, 'CR-FC-022: identifiersOnly: 200');
my ($io) = patients_of($bb);
is_deeply([ sort keys %$io ], [ qw(id identifier meta resourceType) ],
          'CR-FC-022: only id, meta and identifiers');
is(params_of($bb)->{identifiersOnly}, JSON::PP::true,
   'CR-GEN-026: identifiersOnly echoed');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

fc_person(family => $mfam, birthDate => '1944-04-04');
is($res->code, 200, 'CR-FC-031: a masked client is found: 200');
my ($mk) = patients_of($bb);
is($mk->{id}, $masked, 'CR-FC-031: it is the masked client');
my $dar = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
ok(!exists $mk->{birthDate} && !exists $mk->{gender}
   && !exists $mk->{name}[0]{family} && !exists $mk->{address}[0]{line},
   'CR-FC-031: no name, birth date, gender or address values');
is_deeply([ map { $_->{extension}[0] } $mk->{name}[0], $mk->{address}[0],
            $mk->{_birthDate}, $mk->{_gender} ],
          [ ({ url => $dar, valueCode => 'masked' }) x 4 ],
          'CR-FC-031: data-absent-reason masked on name, address, '
          . '_birthDate, _gender');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

# ---- mother's PHN -------------------------------------------------------------
sub mum { my ($phn, %o) = @_;
    return { resourceType => 'RelatedPerson',
             identifier => [ { system => $o{system} // PHN_SYS,
                               value => $phn } ],
             patient => { reference => 'Patient/unknown' },
             relationship => [ { coding => [ { system =>
                 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
                 code => $o{code} // 'NMTH' } ] } ] } }
fc(bc_request(related => mum($mphn)));
is($res->code, 200, "CR-FC-023: mother's PHN: 200");
is_deeply([ sort map { $_->{id} } patients_of($bb) ],
          [ sort $mother, @babies ], 'CR-FC-023: the mother and her babies');
is($bb->{total}, 3, 'CR-FC-006: total 3, RelatedPersons not counted');
ok(!grep({ $_->{search}{score} != 1000 } entries_of($bb, 'Patient')),
   'D-13: patients found by identifier score 1000');
is(scalar(entries_of($bb, 'RelatedPerson')), 2, 'CR-FC-024: two '
   . 'RelatedPersons');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
fc(bc_request(related => mum('9999999999')));
is($res->code, 422, "CR-FC-027: mother's PHN failing the check digit: 422");
is_deeply([ issues_of($bb) ], [ 'error business-rule BCHCIM.FC.2.0124'
                               . '@Bundle.entry[1].resource.identifier' ],
          'CR-FC-027: BCHCIM.FC.2.0124 at the identifier');
fc(bc_request(related => mum(fresh_phn())));
is($res->code, 200, "CR-FC-028: an unknown mother's PHN: 200");
is($bb->{total}, 0, 'CR-FC-028: total 0');
fc(bc_request(related => mum($mphn, code => 'MTH')));
is($res->code, 422, 'CR-FC-029: relationship other than NMTH: 422');
is_deeply([ issues_of($bb) ], [ 'error business-rule BCHCIM.FC.2.0125'
                               . '@Bundle.entry[1].resource.relationship' ],
          'CR-FC-029: BCHCIM.FC.2.0125 at the relationship');
fc(bc_request(related => mum($mphn, system => 'urn:other')));
is($res->code, 422, 'CR-FC-029: no PHN identifier: 422');
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0125' ],
          'CR-FC-029: BCHCIM.FC.2.0125');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

# ---- the request envelope (shared with every Bundle operation) ---------------
$res = fhir_post('/fhir/Patient/$FindCandidates', '{"resourceType":',
                 'Content-Type' => 'application/fhir+json');
$bb = json_of($res);
is($res->code, 400, 'CR-GEN-010: malformed JSON: 400');
is($bb->{resourceType}, 'Bundle', 'CR-GEN-009: still a response Bundle');
is_deeply([ map { (split / /)[1] } issues_of($bb) ], [ 'structure' ],
          'CR-GEN-010: issue code structure');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');
fc({ resourceType => 'Patient' });
is($res->code, 400, 'CR-GEN-011: a Patient body: 400');
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0101' ], 'CR-GEN-011: '
          . 'BCHCIM.FC.2.0101');
my $r = bc_request(patient => person(birthDate => '1961-07-15'));
$r->{type} = 'batch';
fc($r);
is($res->code, 400, 'CR-GEN-012: Bundle.type batch: 400');
is_deeply([ issues_of($bb) ], [ 'error value BCHCIM.FC.2.0102@Bundle.type' ],
          'CR-GEN-012: BCHCIM.FC.2.0102 at Bundle.type');
$r = bc_request(patient => person(birthDate => '1961-07-15'));
delete $r->{entry}[1]{fullUrl};
fc($r);
is_deeply([ $res->code, issues_of($bb) ],
          [ 400, 'error required BCHCIM.FC.2.0103@Bundle.entry[1].fullUrl' ],
          'CR-GEN-013: entry without fullUrl: 400, BCHCIM.FC.2.0103');
$r = bc_request(patient => person(birthDate => '1961-07-15'));
delete $r->{entry}[1]{resource};
fc($r);
is($res->code, 400, 'CR-GEN-014: entry without resource: 400');
is_deeply(error_details($bb), [ 'BCHCIM.FC.2.0104' ],
          'CR-GEN-014: BCHCIM.FC.2.0104');
$r = bc_request(patient => person(birthDate => '1961-07-15'));
@{ $r->{entry} } = reverse @{ $r->{entry} };
fc($r);
is($res->code, 200, 'CR-GEN-015: Patient before Parameters is accepted');
fc({ resourceType => 'Parameters', parameter => [
       { name => 'operationBundle',
         resource => bc_request(patient => person(birthDate =>
                                                  '1961-07-15')) } ] });
is($res->code, 200, 'CR-GEN-016: a Parameters with operationBundle: 200');
is((patients_of($bb))[0]{id}, $exact, 'CR-GEN-016: the same result as the '
   . 'bare Bundle');
fc({ resourceType => 'Parameters', parameter => [
       { name => 'other', resource => bc_request() } ] });
is_deeply([ $res->code, @{ error_details($bb) } ], [ 400, 'BCHCIM.FC.2.0111' ],
          'CR-GEN-016: a Parameters without operationBundle: 400');
$r = bc_request(patient => person(birthDate => '1961-07-15'));
$r->{entry}[0] = { fullUrl => 'urn:uuid:x', resource => person() };
fc($r);
is($res->code, 400, 'CR-GEN-017: no Parameters entry: 400');
ok(grep({ $_ eq 'BCHCIM.FC.2.0106' } @{ error_details($bb) }),
   'CR-GEN-017: BCHCIM.FC.2.0106');
fc(bc_request(params => [ { name => 'identifiersOnly',
                            valueBoolean => JSON::PP::false } ],
              patient => person(birthDate => '1961-07-15')));
is_deeply([ $res->code, issues_of($bb) ],
          [ 400, 'error required BCHCIM.FC.2.0107'
                 . '@Bundle.entry[0].resource.parameter' ],
          'CR-GEN-018: no messageId: 400, BCHCIM.FC.2.0107');
fc(bc_request(params => [ { name => 'messageId', valueString => 'a' },
                          { name => 'messageId', valueString => 'b' } ],
              patient => person(birthDate => '1961-07-15')));
is_deeply([ $res->code, @{ error_details($bb) } ], [ 400, 'BCHCIM.FC.2.0112' ],
          'CR-PARAM-003: two messageIds: 400');
fc(bc_request(params => [ { name => 'messageId', valueString => 'dt' },
                          { name => 'messageDateTime',
                            valueDateTime => '2023-01-23T13:58:38-08:00' },
                          { name => 'somethingElse', valueString => 'x' } ],
              patient => person(birthDate => '1961-07-15')));
is($res->code, 200, 'CR-GEN-019, CR-GEN-021: messageDateTime and unknown '
   . 'parameters are accepted');
ok(!exists params_of($bb)->{messageDateTime}, 'D-06: messageDateTime not '
   . 'emitted');
fc(bc_request(params => [ { name => 'messageId', valueString => 'f' },
                          { name => 'identifiersOnly',
                            valueString => 'true' } ],
              patient => person(birthDate => '1961-07-15')));
is_deeply([ $res->code, issues_of($bb) ],
          [ 400, 'error value BCHCIM.FC.2.0108'
                 . '@Bundle.entry[0].resource.parameter[1].valueBoolean' ],
          'CR-PARAM-002: identifiersOnly not boolean: 400, BCHCIM.FC.2.0108');
fhir_valid($res, 'CR-GEN-034: valid FHIR R4');

# ---- the response Parameters -------------------------------------------------
fc(bc_request(params => [ { name => 'messageId', valueString => 'req-77' } ],
              patient => person(birthDate => '1961-07-15')),
   UserId => 'jdoe@IDIR');
my %p = %{ params_of($bb) };
like($p{messageId}, qr/^[0-9a-f-]{36}$/, 'CR-GEN-023: messageId a new UUID '
     . '(D-05)');
is($p{requestMessageId}, 'req-77', 'CR-GEN-023: requestMessageId = the '
   . 'request messageId');
is_deeply($p{sender}, { system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
                        value => 'MOH_CRS' },
          'CR-GEN-024, CR-PARAM-001: sender (no caller org, no sender '
          . 'parameter: the registry)');
is_deeply($p{enterer}, { system =>
                         'http://hlth.gov.bc.ca/fhir/client/bc-userid',
                         value => 'jdoe@IDIR' },
          'CR-GEN-025: enterer from the UserId header (D-20)');
is((entries_of($bb, 'Parameters'))[0]{resource}{meta}{profile}[0],
   'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/'
   . 'bc-metadata-parameters-out', 'CR-GEN-022: Parameters profile '
   . 'bc-metadata-parameters-out');
ok(!exists $p{identifiersOnly} && !exists $p{history},
   'CR-GEN-026: flags not sent are not echoed');

$res = fhir_get('/fhir/Patient/$FindCandidates');
is($res->code, 405, 'CR-GEN-001: GET on the operation: 405');
is(db_snapshot(), $snap, 'CR-FC-032: no request of this file changed any '
   . 'stored data');
