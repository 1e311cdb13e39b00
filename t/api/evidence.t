# The duplicate review's evidence and decision history (docs/console.md,
# docs/duplicates.md): $potential-duplicates with evidence (why the
# matcher paired two clients, field by field, adding up to the score) and
# history; $match with evidence; $resolve-duplicate with a comment, stored
# with who and when (migration 008) and shown in the pair's history, as
# are merges and unmerges; the output policy withholds the fields of an
# evidence about a restricted client from a caller that is not
# privileged, and shows them to one that is.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use JSON::PP ();
use CR::Test;
use CR::BC;

plan tests => 63;

my $T = JSON::PP::true;
sub params { return { resourceType => 'Parameters', parameter => [ @_ ] } }
sub pid { return { name => $_[0], valueString => $_[1] } }
sub flag { return { name => $_[0], valueBoolean => $T } }
sub listing { fhir_post(q{/fhir/Patient/$potential-duplicates}, params(@_)) }
sub resolve { my $h = shift; fhir_post('/fhir/Patient/$resolve-duplicate', params(@_), %$h) }
sub parts_of {
    my %m;
    push @{ $m{$_->{name}} }, $_ for @{ $_[0]{part} || [] };
    return \%m;
}
# The first duplicate of an answer: { name => [parts] }.
sub first_dup {
    my $p = json_of(shift) // {};
    my ($d) = grep { $_->{name} eq 'duplicate' } @{ $p->{parameter} || [] };
    return $d ? parts_of($d) : undef;
}
# The evidence's fields { name => { level, weight, patientValue, ... } }.
sub fields_of {
    my ($items, $key) = @_;
    my %f;
    for my $it (grep { $_->{$key} eq 'field' } @$items) {
        my %v = map { $_->{$key} => ($_->{valueCode} // $_->{valueDecimal}
                                     // $_->{valueString}) }
                @{ $it->{part} || $it->{extension} };
        $f{$v{name}} = \%v;
    }
    return \%f;
}
sub decisions { db_row('SELECT COUNT(*) AS n FROM cr_match_decision WHERE '
                       . 'patient_lo = ? AND patient_hi = ?', @_)->{n} }

my $tok = unique_token();
my $R = sprintf '%04d', int(rand(10000));
my %base = (family => "Evidencia$tok", birthDate => '1958-02-' . (10 + int(rand(18))),
            phone => "250558$R", postal => sprintf('V9B %dK%d', int(rand(10)), int(rand(10))));
my ($res, $one) = create_patient(%base, given => 'Philippa');
is($res->code, 201, 'setup: a client');
($res, my $two) = create_patient(%base, given => 'Phillipa');
is($res->code, 201, 'setup: its duplicate with a misspelt given name');
my ($lo, $hi) = sort ($one->{id}, $two->{id});
my $stored = db_row('SELECT weight, status FROM cr_match_duplicate WHERE '
                    . 'patient_lo = ? AND patient_hi = ?', $lo, $hi);
is($stored && $stored->{status}, 'open', 'setup: the pair is on the review list');

# --- $potential-duplicates with evidence --------------------------------------
$res = listing(pid(patient => $hi), pid(other => $lo), flag('evidence'));
is($res->code, 200, 'CR-CONSOLE-001: one pair by patient and other, with evidence: 200');
ok(fhir_valid($res), 'CR-CONSOLE-001: a valid Parameters resource');
my $d = first_dup($res);
is($d->{patient}[0]{valueReference}{reference}, "Patient/$lo", 'CR-CONSOLE-001: the pair, smaller id first');
my $ev = $d->{evidence}[0]{part};
ok($ev, 'CR-CONSOLE-001: an evidence part');
my $f = fields_of($ev, 'name');
is_deeply([ sort keys %$f ], [ sort qw(given family birth sex phone postal address) ],
          'CR-CONSOLE-001: every compared field');
is($f->{given}{level}, 'similar', 'CR-CONSOLE-001: Philippa / Phillipa: similar');
is($f->{family}{level}, 'exact', 'CR-CONSOLE-001: family exact');
is($f->{birth}{level}, 'exact', 'CR-CONSOLE-001: birth date exact');
ok(!defined $f->{sex}{level} || $f->{sex}{level} eq 'agree',
   'CR-CONSOLE-001: sex agrees or is not compared');
is_deeply([ sort map { $f->{given}{$_} } qw(patientValue otherValue) ],
          [ 'philippa', 'phillipa' ], 'CR-CONSOLE-002: the values compared, normalized');
my %tot = map { $_->{name} => ($_->{valueDecimal} // $_->{valueCode}) }
          grep { $_->{name} =~ /^(weight|score|grade)$/ } @$ev;
my $sum = 0;
$sum += $_->{weight} for values %$f;
ok(abs($sum - $tot{weight}) < 0.001 * 8, "CR-CONSOLE-002: the fields' weights add up to the total ($sum, $tot{weight})");
ok(abs($tot{weight} - $stored->{weight}) < 0.001,
   'CR-CONSOLE-002: the same weight as the finding (nothing changed since)');
ok($f->{given}{weight} > 0 && $f->{given}{weight} < $f->{family}{weight},
   'CR-CONSOLE-002: a similar name weighs less than an exact one');
is($tot{grade}, $d->{grade}[0]{valueCode}, 'CR-CONSOLE-002: the same grade');
my @subj = map { $_->{valueReference}{reference} } grep { $_->{name} eq 'subject' } @$ev;
is_deeply(\@subj, [ "Patient/$lo", "Patient/$hi" ], 'CR-CONSOLE-002: the evidence names its subjects');

$res = listing(pid(patient => $lo), pid(other => $hi));
ok($res->code == 200 && !first_dup($res)->{evidence}, 'CR-CONSOLE-003: no evidence unless asked');
$res = listing(pid(other => $hi));
is_deeply(oo_codes($res), ['required@Parameters.parameter[0]'], 'CR-CONSOLE-003: other without patient: 400 required');
$res = listing(pid(patient => $lo), pid(other => $lo));
is_deeply(oo_codes($res), ['invalid@Parameters.parameter[1]'], 'CR-CONSOLE-003: a pair of one client: 400 invalid');
$res = listing({ name => 'evidence', valueString => 'yes' });
is_deeply(oo_codes($res), ['invalid@Parameters.parameter[0].valueBoolean'],
          'CR-CONSOLE-003: evidence must be a valueBoolean');
$res = listing(pid(patient => $lo), pid(other => $hi), { name => 'status', valueCode => 'merged' });
ok($res->code == 200 && !first_dup($res), 'CR-CONSOLE-003: the pair, not in the status asked: none');

# --- $match with evidence ------------------------------------------------------------
my $query = sample_patient(%base, given => 'Philippa');
$res = fhir_post('/fhir/Patient/$match', params({ name => 'resource', resource => $query },
                                                  flag('evidence')));
is($res->code, 200, 'CR-CONSOLE-004: $match with evidence: 200');
ok(fhir_valid($res), 'CR-CONSOLE-004: a valid Bundle');
my ($entry) = grep { ($_->{resource}{id} // '') eq $two->{id} } @{ json_of($res)->{entry} || [] };
my ($mx) = grep { $_->{url} =~ /cr-match-evidence$/ } @{ $entry->{search}{extension} || [] };
ok($mx, 'CR-CONSOLE-004: the entry carries the evidence extension');
my $mf = fields_of($mx->{extension} || [], 'url');
is($mf->{given}{level}, 'similar', 'CR-CONSOLE-004: the query against the candidate: given similar');
is($mf->{given}{queryValue}, 'philippa', 'CR-CONSOLE-004: the query value');
is($mf->{given}{value}, 'phillipa', "CR-CONSOLE-004: the candidate's value");
$res = fhir_post('/fhir/Patient/$match', params({ name => 'resource', resource => $query }));
ok($res->content !~ /cr-match-evidence/, 'CR-CONSOLE-004: no evidence unless asked');

# --- $resolve-duplicate with a comment; the history ----------------------------
my %U = (UserId => 'reviewer.one@idir');
my $long = 'x' x 2001;
my $n0 = decisions($lo, $hi);
for my $c ([ 'too long', { name => 'comment', valueString => $long },
             'too-long@Parameters.parameter[3].valueString' ],
           [ 'not a string', { name => 'comment', valueCode => 'dup' },
             'invalid@Parameters.parameter[3].valueString' ],
           [ 'empty', { name => 'comment', valueString => '' },
             'invalid@Parameters.parameter[3].valueString' ]) {
    $res = resolve(\%U, pid(patient => $lo), pid(other => $hi),
                   { name => 'resolution', valueCode => 'not-duplicate' }, $c->[1]);
    is_deeply(oo_codes($res), [ $c->[2] ], "CR-CONSOLE-005: a comment $c->[0]: 400");
}
is(decisions($lo, $hi), $n0, 'CR-CONSOLE-005: nothing stored for them');
is(db_row('SELECT status FROM cr_match_duplicate WHERE patient_lo = ? AND patient_hi = ?',
          $lo, $hi)->{status}, 'open', 'CR-CONSOLE-005: the pair stays open');
my $comment = "Two sisters, Philippa and Phillipa ($tok)";
$res = resolve(\%U, pid(patient => $lo), pid(other => $hi),
               { name => 'resolution', valueCode => 'not-duplicate' },
               { name => 'comment', valueString => $comment });
is($res->code, 200, 'CR-CONSOLE-006: dismissed with a comment: 200');
$d = first_dup($res);
my %dec = map { $_->{name} => ($_->{valueString} // $_->{valueCode} // $_->{valueInteger}
                               // $_->{valueInstant}) } @{ $d->{decision}[0]{part} || [] };
is_deeply([ @dec{qw(action status comment decidedBy)} ],
          [ 'not-duplicate', 'not-duplicate', $comment, 'reviewer.one@idir' ],
          'CR-CONSOLE-006: the answer shows the decision with its comment and who');
my $row = db_row('SELECT * FROM cr_match_decision WHERE patient_lo = ? AND patient_hi = ?'
                 . ' ORDER BY seq DESC', $lo, $hi);
is_deeply([ @$row{qw(action status comment decided_by)} ],
          [ 'not-duplicate', 'not-duplicate', $comment, 'reviewer.one@idir' ],
          'CR-CONSOLE-006: stored (migration 008)');
like($row->{decided}, qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/, 'CR-CONSOLE-006: with when');
$res = resolve({ UserId => 'reviewer.two@idir' }, pid(patient => $hi), pid(other => $lo),
               { name => 'resolution', valueCode => 'open' });
is($res->code, 200, 'CR-CONSOLE-006: reopened without a comment: 200');
$res = listing(pid(patient => $lo), pid(other => $hi), flag('history'));
my @hist = map { my %x = map { $_->{name} => ($_->{valueString} // $_->{valueCode}) }
                         @{ $_->{part} }; \%x } @{ first_dup($res)->{decision} || [] };
is_deeply([ map { $_->{action} } @hist ], [ 'open', 'not-duplicate' ],
          'CR-CONSOLE-007: the history, newest first');
ok(!exists $hist[0]{comment} && $hist[1]{comment} eq $comment
   && $hist[0]{decidedBy} eq 'reviewer.two@idir', 'CR-CONSOLE-007: each with its own comment and who');

# --- cross-site request forgery (docs/console.md) -------------------------------------
# A page of another site can send a simple request (a form's text/plain)
# without asking: the registry refuses it.  Anything else needs a CORS
# preflight, which the registry never grants.
$res = fhir_post('/fhir/Patient/$resolve-duplicate', JSON::PP->new->encode(params(
    pid(patient => $lo), pid(other => $hi), { name => 'resolution', valueCode => 'not-duplicate' })),
    'Content-Type' => 'text/plain', Origin => 'https://elsewhere.example');
is($res->code, 415, 'CR-CONSOLE-010: a decision sent as text/plain (a cross-site form): 415');
is(db_row('SELECT status FROM cr_match_duplicate WHERE patient_lo = ? AND patient_hi = ?',
          $lo, $hi)->{status}, 'open', 'CR-CONSOLE-010: and the pair is unchanged');
$res = raw_request("OPTIONS /fhir/Patient/\$resolve-duplicate HTTP/1.1\r\nHost: localhost\r\n"
                   . "Origin: https://elsewhere.example\r\nAccess-Control-Request-Method: POST\r\n"
                   . "Access-Control-Request-Headers: content-type, userid\r\nConnection: close\r\n\r\n");
ok($res->code >= 400 && !defined $res->header('Access-Control-Allow-Origin'),
   'CR-CONSOLE-010: the CORS preflight is not granted (' . $res->code . ')');

# --- merges and unmerges are in the history ------------------------------------------
my $MS = 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-merge-status-extension';
my ($phn_lo, $phn_hi) = map { phn_of($_) } ($lo eq $one->{id} ? ($one, $two) : ($two, $one));
my $merge = bc_request(patient => { resourceType => 'Patient',
    identifier => [ { use => 'official', system => PHN_SYS, value => $phn_lo } ],
    link => [ { extension => [ { url => $MS, valueCode => 'obsolete' } ],
                other => { identifier => { system => PHN_SYS, value => $phn_hi } },
                type => 'replaces' } ] });
$res = op_post('MergePatient', $merge, %U);
is($res->code, 200, 'CR-CONSOLE-008: merged: 200');
$res = resolve(\%U, pid(patient => $lo), pid(other => $hi),
               { name => 'comment', valueString => "Merged: one PHN card ($tok)" });
is($res->code, 200, 'CR-CONSOLE-008: a note (a comment alone) on the merged pair: 200');
is(db_row('SELECT status FROM cr_match_duplicate WHERE patient_lo = ? AND patient_hi = ?',
          $lo, $hi)->{status}, 'merged', 'CR-CONSOLE-008: the note keeps the status');
# The unmerge is a message of its own: a new messageId (the merge's
# would be a repeat of another request, CR-PARAM-004).
my $unmerge = bc_request(patient => (grep { $_->{resource}{resourceType} eq 'Patient' }
                                     @{ $merge->{entry} })[0]{resource});
$res = op_post('UnmergePatient', $unmerge, %U);
is($res->code, 200, 'CR-CONSOLE-008: unmerged: 200');
my $rows = db_rows('SELECT action, status, decided_by FROM cr_match_decision WHERE patient_lo = ?'
                   . ' AND patient_hi = ? ORDER BY seq', $lo, $hi);
is_deeply([ map { "$_->{action}/$_->{status}/$_->{decided_by}" } @$rows[2 .. 4] ],
          [ 'merged/merged/reviewer.one@idir', 'note/merged/reviewer.one@idir',
            'unmerged/open/reviewer.one@idir' ],
          'CR-CONSOLE-008: the merge, the note and the unmerge recorded with who');

# --- the output policy -------------------------------------------------------------------
my $CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
my %sec = (family => "Hiddenev$tok", birthDate => '1961-07-' . (10 + int(rand(18))),
           phone => "250559$R", postal => sprintf('V0R %dT%d', int(rand(10)), int(rand(10))));
($res, my $r1) = create_patient(%sec, given => 'Winifred');
is($res->code, 201, 'setup: a client to restrict');
$res = fhir_put("/fhir/Patient/$r1->{id}", { %$r1, meta => { security => [
                { system => $CONF, code => 'R' } ] } });
is($res->code, 200, 'setup: restricted (meta.security R)');
($res, my $r2) = create_patient(%sec, given => 'Winnifred');
is($res->code, 201, 'setup: a duplicate of the restricted client');
my ($slo, $shi) = sort ($r1->{id}, $r2->{id});
$res = listing(pid(patient => $slo), pid(other => $shi), flag('evidence'));
my $sev = first_dup($res) && first_dup($res)->{evidence}[0]{part};
ok($res->code == 200 && $sev && !grep({ $_->{name} eq 'field' } @$sev)
   && grep({ $_->{name} eq 'withheld' && $_->{valueBoolean} } @$sev),
   'CR-CONSOLE-009: not privileged: the fields withheld, marked withheld');
ok(index($res->content, lc $sec{family}) < 0 && index($res->content, 'winifred') < 0,
   'CR-CONSOLE-009: not privileged: none of the values in the answer');
$res = fhir_post('/fhir-secure/Patient/$potential-duplicates',
                 params(pid(patient => $slo), pid(other => $shi), flag('evidence')),
                 module => 'mod_ssl', cert => 'client_admin', %U);
my $pf = $res->code == 200 && first_dup($res) ? fields_of(first_dup($res)->{evidence}[0]{part}, 'name') : {};
ok(($pf->{family}{patientValue} // '') eq lc $sec{family},
   'CR-CONSOLE-009: privileged: the fields and values shown');
# The audit writer records the answer in the log phase, after it is sent.
my $unmasked = 0;
for (1 .. 50) {
    $unmasked = db_row(q{SELECT COUNT(*) AS n FROM cr_audit WHERE operation = ?},
                       "\$potential-duplicates+unmasked=$r1->{id}")->{n};
    last if $unmasked;
    select(undef, undef, undef, 0.1);
}
ok($unmasked >= 1, 'CR-CONSOLE-009: privileged: the audit trail records the restricted client shown');
$res = fhir_post('/fhir/Patient/$match', params({ name => 'resource',
    resource => sample_patient(%sec, given => 'Winifred') }, flag('evidence')));
my ($sx) = map { grep { $_->{url} =~ /cr-match-evidence$/ } @{ $_->{search}{extension} || [] } }
           grep { ($_->{resource}{id} // '') eq $r1->{id} } @{ json_of($res)->{entry} || [] };
ok($res->code == 200 && $sx && !grep({ $_->{url} eq 'field' } @{ $sx->{extension} })
   && grep({ $_->{url} eq 'withheld' } @{ $sx->{extension} }),
   'CR-CONSOLE-009: $match, not privileged: the restricted candidate\'s evidence withheld');

# --- grade and sort ---------------------------------------------------------------------
$res = listing({ name => 'grade', valueCode => 'probable' }, { name => 'count', valueInteger => 50 });
my @g = map { my $x = parts_of($_); $x->{grade}[0]{valueCode} } @{ json_of($res)->{parameter} || [] };
ok($res->code == 200 && !grep({ $_ ne 'probable' } @g), 'CR-CONSOLE-011: grade probable: only probable pairs (' . scalar(@g) . ')');
$res = listing({ name => 'sort', valueCode => '-score' }, { name => 'count', valueInteger => 50 });
my @s = map { my $x = parts_of($_); $x->{score}[0]{valueDecimal} } @{ json_of($res)->{parameter} || [] };
ok($res->code == 200 && @s >= 2 && !grep({ $s[$_ - 1] < $s[$_] } 1 .. $#s),
   'CR-CONSOLE-011: sort -score: highest first');
$res = listing({ name => 'sort', valueCode => 'name' });
is_deeply(oo_codes($res), ['code-invalid@Parameters.parameter[0].valueCode'],
          'CR-CONSOLE-011: an unknown sort: 400 code-invalid');
