# POST [base]/Patient/$match (FHIR R4 Patient-match) and the review list of
# potential duplicates found at write time ($potential-duplicates).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 75;

my $GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';

# Data no other test (or earlier run sharing the database) uses: every
# run draws its own birth dates, phones, house numbers and postal codes.
my $R = sprintf '%04d', int(rand(10000));
my $Y = 1930 + int(rand(50));
sub digit { int(rand(10)) }
my $PC = sprintf 'V8T %d%s%d', digit(), chr(65 + int(rand(26))), digit();

# A person of this test file.
sub person {
    my %o = @_;
    return {
        resourceType => 'Patient',
        name => [ { use => $o{use} // 'official',
                    family => $o{family}, given => [ $o{given} // 'Rosalind' ] } ],
        gender => $o{gender} // 'female',
        birthDate => $o{birthDate} // "$Y-10-21",
        telecom => [ { system => 'phone', value => $o{phone} // "250555$R",
                       use => 'home' } ],
        address => [ { type => 'physical', line => [ $o{line} // "4$R Quadra St" ],
                       city => $o{city} // 'Victoria', state => 'BC',
                       postalCode => $o{postal} // $PC, country => 'CA' } ],
    };
}

sub params { return { resourceType => 'Parameters', parameter => [ @_ ] } }
sub match { fhir_post('/fhir/Patient/$match', params(@_)) }
sub resource_param { return { name => 'resource', resource => $_[0] } }

# entries of a $match Bundle: [id, score, grade, mode]
sub hits {
    my $b = shift;
    return map {
        my ($g) = map { $_->{valueCode} } grep { $_->{url} eq $GRADE }
                  @{ $_->{search}{extension} || [] };
        [ $_->{resource}{id}, $_->{search}{score}, $g, $_->{search}{mode} ]
    } grep { ($_->{search}{mode} // '') eq 'match' } @{ $b->{entry} || [] };
}

my $family = unique_name('Fairweather');
my ($res, $orig) = (fhir_post('/fhir/Patient', person(family => $family)));
is($res->code, 201, 'setup: the original is created');
$orig = json_of($res);

# --- an exact duplicate is certain ----------------------------------------
$res = match(resource_param(person(family => $family)));
is($res->code, 200, 'CR-MATCH-001: $match answers 200');
like($res->header('Content-Type'), qr{^application/fhir\+json},
     'CR-MATCH-001: FHIR JSON');
my $b = json_of($res);
is($b->{resourceType}, 'Bundle', 'CR-MATCH-001: a Bundle');
is($b->{type}, 'searchset', 'CR-MATCH-001: of type searchset');
my @h = hits($b);
is($b->{total}, scalar(@h), 'CR-MATCH-001: total counts the matches');
is($h[0][0], $orig->{id}, 'CR-MATCH-001/CR-FC-021: the exact duplicate comes first');
is($h[0][2], 'certain', 'CR-MATCH-001: graded certain (match-grade extension)');
is($h[0][3], 'match', 'CR-MATCH-001: search.mode match');
ok($h[0][1] > 0.99 && $h[0][1] <= 1, "CR-MATCH-001: score $h[0][1] within (0.99, 1]");
is($b->{entry}[0]{fullUrl}, "http://" . Apache::TestRequest::hostport() .
   "/fhir/Patient/$orig->{id}", 'CR-MATCH-001: fullUrl of the stored Patient');
is($b->{entry}[0]{resource}{name}[0]{family}, $family,
   'CR-MATCH-001: the stored resource is returned');

# name.use does not change the result.
$res = match(resource_param(person(family => $family, use => 'usual')));
my @u = hits(json_of($res));
is_deeply([ map { [$_->[0], $_->[2]] } @u ], [ map { [$_->[0], $_->[2]] } @h ],
          'CR-FC-019: name.use does not affect matching');

# --- a typo'd duplicate is probable or possible ---------------------------
(my $typo = $family) =~ s/weather/wether/;
$res = match(resource_param(person(family => $typo, given => 'Rosalind',
                                   birthDate => "$Y-10-12",
                                   phone => '6045550199', line => '9 Cook St',
                                   postal => 'V8V 3X9')));
is($res->code, 200, 'CR-MATCH-002: $match answers 200');
@h = hits(json_of($res));
my ($t) = grep { $_->[0] eq $orig->{id} } @h;
ok($t, 'CR-MATCH-002: the typo\'d duplicate is found');
like($t ? $t->[2] : '', qr/^(probable|possible)$/,
     'CR-MATCH-002: graded probable or possible, not certain');
ok($t && $t->[1] < $h[0][1] + 1e-9 && $t->[1] < 0.99,
   'CR-MATCH-002: with a lower score');

# --- a different person is not returned -----------------------------------
$res = match(resource_param(person(family => unique_name('Okonkwo'),
                                   given => 'Tobias', gender => 'male',
                                   birthDate => '2001-02-03',
                                   phone => '7785550123', line => '1 Oak Ave',
                                   city => 'Kamloops', postal => 'V2C 1B2')));
is($res->code, 200, 'CR-MATCH-003: $match of a new person answers 200');
$b = json_of($res);
is($b->{total}, 0, 'CR-MATCH-003/CR-GEN-030: total 0');
is(scalar(grep { $_->[0] eq $orig->{id} } hits($b)), 0,
   'CR-MATCH-003: the stored person is not returned');

# --- onlyCertainMatches ----------------------------------------------------
$res = match(resource_param(person(family => $family)),
             { name => 'onlyCertainMatches', valueBoolean => JSON::PP::true });
@h = hits(json_of($res));
is($res->code, 200, 'CR-MATCH-004: onlyCertainMatches answers 200');
is(scalar(@h), 1, 'CR-MATCH-004: one certain match');
is($h[0][2], 'certain', 'CR-MATCH-004: it is certain');
$res = match(resource_param(person(family => $typo, birthDate => "$Y-10-12",
                                   phone => '6045550199', line => '9 Cook St',
                                   postal => 'V8V 3X9')),
             { name => 'onlyCertainMatches', valueBoolean => JSON::PP::true });
is(json_of($res)->{total}, 0, 'CR-MATCH-004: probable matches are not returned');

# --- potential duplicates recorded at create time -------------------------
my $dup_family = unique_name('Pemberton');
my %d = (family => $dup_family, given => 'Augustin', gender => 'male',
         birthDate => ($Y + 1) . '-06-30', phone => "250556$R",
         line => "8$R Fort St", postal => sprintf('V8W %d%s%d', digit(),
                                                  chr(65 + int(rand(26))),
                                                  digit()));
$res = fhir_post('/fhir/Patient', person(%d));
is($res->code, 201, 'CR-MATCH-010: the first record is created');
my $first = json_of($res)->{id};
is(db_row('SELECT COUNT(*) AS n FROM cr_match_duplicate WHERE patient_lo = ? OR patient_hi = ?',
          $first, $first)->{n}, 0, 'CR-MATCH-010: a new person has no potential duplicate');
$res = fhir_post('/fhir/Patient', person(%d), 'Request-Id' => 'dupcheck-1');
is($res->code, 201, 'CR-MATCH-010: a duplicate is still created (never merged silently)');
my $second = json_of($res)->{id};
isnt($second, $first, 'CR-MATCH-010: as a record of its own');
my ($lo, $hi) = sort ($first, $second);
my $row = db_row('SELECT * FROM cr_match_duplicate WHERE patient_lo = ? AND patient_hi = ?',
                 $lo, $hi);
ok($row, 'CR-MATCH-010: the pair is recorded in the review list');
is($row->{grade}, 'certain', 'CR-MATCH-010: graded certain');
is($row->{status}, 'open', 'CR-MATCH-010: status open');
is($row->{found_by}, 'create', 'CR-MATCH-010: found by the create');
is($row->{message_id}, 'dupcheck-1', 'CR-MATCH-010: with its message id');
ok($row->{score} > 0.99 && $row->{score} <= 1, 'CR-MATCH-010: with its score');
is(db_row('SELECT COUNT(*) AS n FROM cr_patient WHERE id IN (?, ?)', $first,
          $second)->{n}, 2, 'CR-MATCH-010: both records stay');

# The review list through the API.
$res = fhir_post('/fhir/Patient/$potential-duplicates',
                 params({ name => 'patient', valueString => $second }));
is($res->code, 200, 'CR-MATCH-011: $potential-duplicates answers 200');
my $p = json_of($res);
is($p->{resourceType}, 'Parameters', 'CR-MATCH-011: a Parameters resource');
my @dups = grep { $_->{name} eq 'duplicate' } @{ $p->{parameter} || [] };
is(scalar(@dups), 1, 'CR-MATCH-011: one pair for this patient');
my %part = map { $_->{name} => $_ } @{ $dups[0]{part} };
is($part{patient}{valueReference}{reference}, "Patient/$lo",
   'CR-MATCH-011: patient (smaller id first)');
is($part{other}{valueReference}{reference}, "Patient/$hi", 'CR-MATCH-011: other');
is($part{grade}{valueCode}, 'certain', 'CR-MATCH-011: grade');
ok($part{score}{valueDecimal} > 0.99, 'CR-MATCH-011: score');
is($part{foundBy}{valueCode}, 'create', 'CR-MATCH-011: foundBy');
is($part{status}{valueCode}, 'open', 'CR-MATCH-011: status');
like($part{found}{valueInstant}, qr/^\d{4}-\d\d-\d\dT/, 'CR-MATCH-011: found');
$res = fhir_post('/fhir/Patient/$potential-duplicates',
                 params({ name => 'count', valueInteger => 1 }));
is($res->code, 200, 'CR-MATCH-011: the whole list, one at a time');
is(scalar(@{ json_of($res)->{parameter} || [] }), 1, 'CR-MATCH-011: count honoured');

# Two certain matches: onlyCertainMatches returns neither.
$res = match(resource_param(person(%d)),
             { name => 'onlyCertainMatches', valueBoolean => JSON::PP::true });
is($res->code, 200, 'CR-MATCH-005: onlyCertainMatches with two certain answers 200');
$b = json_of($res);
is($b->{total}, 0, 'CR-MATCH-005: neither is returned');
my ($oo) = grep { ($_->{search}{mode} // '') eq 'outcome' } @{ $b->{entry} || [] };
is($oo && $oo->{resource}{issue}[0]{code}, 'multiple-matches',
   'CR-MATCH-005: an OperationOutcome entry says why (multiple-matches)');

# count.
$res = match(resource_param(person(%d)), { name => 'count', valueInteger => 1 });
is(json_of($res)->{total}, 1, 'CR-MATCH-006: count 1 returns one match');
$res = match(resource_param(person(%d)));
@h = hits(json_of($res));
is(scalar(@h), 2, 'CR-MATCH-006: without count both are returned');
ok($h[0][1] >= $h[1][1], 'CR-FC-005: ordered by descending score');

# An update refreshes the finding.
my $cur = json_of(fhir_get("/fhir/Patient/$second"));
$res = fhir_put("/fhir/Patient/$second", $cur);
is($res->code, 200, 'CR-MATCH-012: the duplicate is updated');
is(db_row('SELECT found_by FROM cr_match_duplicate WHERE patient_lo = ? AND patient_hi = ?',
          $lo, $hi)->{found_by}, 'update', 'CR-MATCH-012: the update found it again');

# --- bad input --------------------------------------------------------------
$res = fhir_post('/fhir/Patient/$match', person(family => $family));
is($res->code, 400, 'CR-MATCH-020: a Patient body instead of Parameters: 400');
is_deeply(oo_codes($res), ['invalid@Parameters'], 'CR-MATCH-020: invalid');
$res = match();
is($res->code, 400, 'CR-MATCH-021: no resource: 400');
is_deeply(oo_codes($res), ['required@Parameters.parameter'], 'CR-MATCH-021: required');
$res = match(resource_param(person(family => $family)),
             resource_param(person(family => $family)));
is($res->code, 400, 'CR-MATCH-022: resource twice: 400');
is_deeply(oo_codes($res), ['invalid@Parameters.parameter[1]'], 'CR-MATCH-022: invalid');
$res = match(resource_param(person(family => $family)),
             { name => 'count', valueInteger => 0 });
is($res->code, 400, 'CR-MATCH-023: count 0: 400');
is_deeply(oo_codes($res), ['invalid@Parameters.parameter[1].valueInteger'],
          'CR-MATCH-023: invalid count');
$res = match(resource_param(person(family => $family)),
             { name => 'count', valueString => '5' });
is($res->code, 400, 'CR-MATCH-023: count as a string: 400');
$res = match(resource_param(person(family => $family)),
             { name => 'onlyCertainMatches', valueString => 'yes' });
is($res->code, 400, 'CR-MATCH-024: onlyCertainMatches not a boolean: 400');
is_deeply(oo_codes($res), ['invalid@Parameters.parameter[1].valueBoolean'],
          'CR-MATCH-024: invalid');
$res = match(resource_param(person(family => $family)),
             { name => 'threshold', valueDecimal => 0.5 });
is($res->code, 400, 'CR-MATCH-025: an unknown parameter: 400');
is_deeply(oo_codes($res), ['not-supported@Parameters.parameter[1].name'],
          'CR-MATCH-025: not-supported');
$res = match({ name => 'resource', resource => { resourceType => 'Observation' } });
is($res->code, 400, 'CR-MATCH-026: a resource that is not a Patient: 400');
is_deeply(oo_codes($res), ['invalid@Parameters.parameter[0].resource.resourceType'],
          'CR-MATCH-026: invalid resourceType');
$res = match(resource_param({ resourceType => 'Patient',
                              name => [ { family => $family, given => ['Rosalind'] } ] }));
is($res->code, 422, 'CR-MATCH-027: a name alone is too little to match on: 422');
is_deeply(oo_codes($res), ['business-rule@Parameters.parameter[0].resource'],
          'CR-MATCH-027: business-rule');
$res = fhir_get('/fhir/Patient/$match');
is($res->code, 405, 'CR-MATCH-028: GET $match: 405');
$res = fhir_post('/fhir/Patient/$potential-duplicates',
                 params({ name => 'patient', valueString => 'no such id!' }));
is($res->code, 400, 'CR-MATCH-029: $potential-duplicates with a bad id: 400');
is_deeply(oo_codes($res), ['invalid@Parameters.parameter[0]'], 'CR-MATCH-029: invalid');
