package CR::BC;
# Helpers for the tests of the BC query operations ($FindCandidates,
# $GetDemographics, the BC RESTful forms, the IG example comparisons):
# request Bundles, response Bundle inspection, fresh valid PHNs, IG
# fixtures from t/data/ig, a field-by-field comparison with the IG's
# example responses, a snapshot of the stored data (the queries must
# change nothing) and FHIR R4 JSON schema validation of every response
# through t/tools/fhir-validate.js (one node process per test file).
use strict;
use warnings FATAL => 'all';

use Exporter 'import';
use JSON::PP ();
use IPC::Open2 ();
use Test::More ();
use CR::Test;

our @EXPORT = qw(BC_ACCEPT PHN_SYS SRI_SYS bc_request op_post bc_get
                 fhir_valid outcome_of issues_of error_details params_of
                 patients_of entries_of fresh_phn ig_fixture ig_patient
                 store_patient ig_compare db_snapshot mother_of
                 unique_token merge_person client_state sender_params);

use constant BC_ACCEPT =>
    'application/fhir+json; charset=utf-8; fhirVersion=4.0; BCFhirVersion=1';
use constant PHN_SYS =>
    'https://fhir.infoway-inforoute.ca/NamingSystem/ca-bc-patient-healthcare-id';
use constant SRI_SYS =>
    'https://health.gov.bc.ca/fhir/NamingSystem/ca-bc-%s-source-patient-id';

my $JSON = JSON::PP->new->utf8->canonical;
my $seq = 0;

# bc_request(params => [..], patient => {..}, related => {..}, entries =>
# [extra resources]) -> a collection Bundle as the IG's requests.
sub bc_request {
    my %o = @_;
    my @params = @{ $o{params} // [ { name => 'messageId',
                                      valueString => "msg-$$-" . time() . '-' . ++$seq } ] };
    my @e = ({ fullUrl => 'urn:uuid:00000000-0000-4000-8000-' .
                          sprintf('%012d', ++$seq),
               resource => { resourceType => 'Parameters',
                             parameter => \@params } });
    for my $r (grep { defined } $o{patient}, $o{related},
               @{ $o{entries} || [] }) {
        push @e, { fullUrl => 'urn:uuid:00000000-0000-4000-8000-' .
                              sprintf('%012d', ++$seq),
                   resource => $r };
    }
    return { resourceType => 'Bundle', type => 'collection', entry => \@e };
}

# The MetadataParameters of a request: messageId $mid, sender $org.
sub sender_params {
    my ($mid, $org) = @_;
    return [ { name => 'messageId', valueString => $mid },
             { name => 'sender', valueIdentifier => {
                 system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
                 value => $org } } ];
}

sub op_post {
    my ($op, $body, @h) = @_;
    return fhir_post("/fhir/Patient/\$$op", $body, @h);
}

sub bc_get {
    my ($path, @h) = @_;
    return fhir_get($path, Accept => BC_ACCEPT, @h);
}

# ---- FHIR R4 JSON schema validation ------------------------------------
my ($vpid, $vin, $vout);
sub _validator {
    return 1 if $vpid;
    my $script = t_dir() . '/tools/fhir-validate.js';
    $vpid = eval { IPC::Open2::open2($vout, $vin, 'node', $script,
                                      '--stdin') };
    return 0 unless $vpid;
    return 1;
}
END {
    if ($vpid) {
        close $vin;
        waitpid $vpid, 0;
    }
}

# fhir_valid(RESPONSE | TEXT, NAME): one test, the body is valid FHIR R4.
sub fhir_valid {
    my ($res, $name) = @_;
    my $text = ref $res ? $res->content : $res;
    $text //= '';
    $text =~ s/\n//g;
    unless (_validator()) {
        return Test::More::fail("$name (validator did not start: run "
                                . "./quickstart build)");
    }
    print $vin "$text\n";
    my $line = <$vout>;
    $line //= 'invalid ["validator died (t/tools/node_modules missing? '
              . 'run ./quickstart build)"]';
    chomp $line;
    my $ok = Test::More::ok($line eq 'ok', $name);
    Test::More::diag("schema: $line") unless $ok;
    return $ok;
}

# ---- response Bundles ----------------------------------------------------
sub entries_of {
    my ($b, $type) = @_;
    return grep { ($_->{resource}{resourceType} // '') eq $type }
           @{ $b->{entry} || [] };
}

sub outcome_of {
    my $b = shift;
    my ($e) = entries_of($b, 'OperationOutcome');
    return $e ? $e->{resource} : undef;
}

# "severity code detail@expression" of every issue.
sub issues_of {
    my $b = shift;
    my $oo = outcome_of($b) or return ();
    return map {
        my $d = $_->{details}{coding}[0]{code} // '-';
        my $x = $_->{expression} ? '@' . $_->{expression}[0] : '';
        "$_->{severity} $_->{code} $d$x"
    } @{ $oo->{issue} || [] };
}

# The detail codes of the error issues.
sub error_details {
    my $b = shift;
    my $oo = outcome_of($b) or return [];
    return [ map { $_->{details}{coding}[0]{code} // '-' }
             grep { $_->{severity} eq 'error' } @{ $oo->{issue} || [] } ];
}

# name => value of the MetadataParametersOut.
sub params_of {
    my $b = shift;
    my ($e) = entries_of($b, 'Parameters');
    my %p;
    for my $p (@{ $e ? $e->{resource}{parameter} : [] }) {
        my ($k) = grep { /^value|^resource$/ } keys %$p;
        $p{ $p->{name} } = $k ? $p->{$k} : undef;
    }
    return \%p;
}

sub patients_of { return map { $_->{resource} } entries_of($_[0], 'Patient') }

# ---- data ------------------------------------------------------------------
sub _phn_ok {
    my $s = shift;
    my @w = (2, 4, 8, 5, 10, 9, 7, 3);
    my @d = split //, $s;
    my $sum = 0;
    $sum += ($d[$_ + 1] * $w[$_]) % 11 for 0 .. 7;
    my $r = $sum % 11;
    return 0 if $r < 2;
    return $d[9] == 11 - $r;
}

# A valid PHN nobody holds yet: bodies far above what the registry
# assigns itself, random per call.
sub fresh_phn {
    for (1 .. 1000) {
        my $body = 60000000 + int(rand(39999999));
        for my $c (0 .. 9) {
            my $p = "9$body$c";
            next unless _phn_ok($p);
            my $row = db_row('SELECT 1 AS x FROM cr_identifier WHERE value = ?',
                             $p);
            return $p unless $row;
        }
    }
    die "no fresh PHN";
}

sub unique_token { return unique_name('') }

sub ig_fixture {
    my $name = shift;
    my $f = t_dir() . "/data/ig/$name";
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    my $d = $JSON->decode(<$fh>);
    close $fh;
    return $d;
}

# The i-th Patient of an IG response Bundle, ready to store: without id,
# meta and narrative (the registry assigns the first two, the composite
# view has no narrative).
sub ig_patient {
    my ($bundle, $i) = @_;
    my @p = map { $JSON->decode($JSON->encode($_)) } patients_of($bundle);
    my $p = $p[$i // 0];
    delete @$p{qw(id meta text)};
    return $p;
}

# POST a Patient; returns its id (dies on failure).
sub store_patient {
    my $p = shift;
    my $res = fhir_post('/fhir/Patient', $p);
    die 'store_patient: ' . $res->code . ' ' . $res->content
        unless $res->code == 201;
    return json_of($res)->{id};
}

# The newborn form: a Patient whose mother is a contained RelatedPerson
# (NMTH) holding her PHN.
sub mother_of {
    my $phn = shift;
    return [ { resourceType => 'RelatedPerson', id => 'mother',
               identifier => [ { system => PHN_SYS, value => $phn } ],
               patient => { reference => '#' },
               relationship => [ { coding => [ {
                   system => 'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
                   code => 'NMTH' } ] } ] } ];
}

# A fingerprint of everything the store holds, to show a request changed
# nothing (CR-FC-032, CR-GD-027).
sub db_snapshot {
    my @parts;
    for my $q ('SELECT COUNT(*) AS n, COALESCE(SUM(version_id), 0) AS v, '
               . 'COALESCE(MAX(last_updated), \'\') AS t FROM cr_patient',
               'SELECT COUNT(*) AS n, 0 AS v, '
               . 'COALESCE(MAX(last_updated), \'\') AS t FROM cr_patient_version',
               'SELECT COUNT(*) AS n, 0 AS v, \'\' AS t FROM cr_identifier',
               'SELECT COUNT(*) AS n, 0 AS v, \'\' AS t FROM cr_search_index') {
        my $r = db_row($q);
        push @parts, "$r->{n}/$r->{v}/$r->{t}";
    }
    return join ' ', @parts;
}

# ---- merges (t/api/merge.t, t/ig/merge_params.t) ----------------------------
# merge_person(SRI_SYSTEM, SRI, FAMILY, GIVEN, DOB, USER_HEADERS...) -> (id,
# PHN) of a client created (or found) by $RevisePatient.
sub merge_person {
    my ($sys, $sri, $family, $given, $dob, %h) = @_;
    my $res = op_post('RevisePatient', bc_request(patient => {
        resourceType => 'Patient',
        extension => [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ],
        identifier => [ { use => 'official', system => $sys, value => $sri } ],
        name => [ { use => 'official', family => $family,
                    given => [$given] } ],
        gender => 'male', birthDate => $dob,
        address => [ { type => 'physical', line => ["$given St"],
                       city => 'Kelowna', state => 'BC', country => 'CA' } ],
    }), %h);
    die "setup revise: " . $res->code . $res->content
        unless $res->code == 201 || $res->code == 200;
    my ($p) = patients_of(json_of($res));
    my ($phn) = map { $_->{value} } grep { $_->{system} eq PHN_SYS }
                @{ $p->{identifier} };
    return ($p->{id}, $phn);
}

# client_state(ID) -> the stored client (resource without meta, active,
# replaced_by, PHN, "value:status" of its identifiers), to compare before
# and after a merge and its unmerge.
sub client_state {
    my $id = shift;
    my $r = db_row('SELECT resource, active, replaced_by, phn FROM cr_patient '
                   . 'WHERE id = ?', $id);
    my $json = JSON::PP->new->canonical;
    my $j = $json->decode($r->{resource});
    delete $j->{meta};
    return { resource => $json->encode($j), active => $r->{active},
             replaced_by => $r->{replaced_by}, phn => $r->{phn},
             ids => join(',', map { "$_->{value}:$_->{status}" } @{ db_rows(
                 'SELECT value, status FROM cr_identifier WHERE patient_id = '
                 . '? ORDER BY value', $id) }) };
}

# ---- comparison with an IG example ------------------------------------------
# ig_compare(GOT, EXPECTED, %opt) -> list of differences ("path: why").
# opt: ignore => [regex] paths whose values are not compared (ids,
#      timestamps, message ids); extra => [regex] paths of elements the
#      registry adds (each a documented decision); subst => { expected
#      value => value used instead } (the IG's invalid example PHNs).
sub ig_compare {
    my ($got, $exp, %opt) = @_;
    my @diff;
    _cmp($got, $exp, '', \%opt, \@diff);
    return @diff;
}

sub _matches {
    my ($path, $list) = @_;
    for my $re (@{ $list || [] }) {
        return 1 if $path =~ $re;
    }
    return 0;
}

sub _cmp {
    my ($g, $e, $path, $opt, $diff) = @_;
    return if _matches($path, $opt->{ignore});
    if (ref $e eq 'HASH') {
        unless (ref $g eq 'HASH') {
            push @$diff, "$path: expected an object";
            return;
        }
        for my $k (sort keys %$e) {
            my $p = $path eq '' ? $k : "$path.$k";
            next if _matches($p, $opt->{ignore});
            unless (exists $g->{$k}) {
                push @$diff, "$p: missing";
                next;
            }
            _cmp($g->{$k}, $e->{$k}, $p, $opt, $diff);
        }
        for my $k (sort keys %$g) {
            my $p = $path eq '' ? $k : "$path.$k";
            next if exists $e->{$k} || _matches($p, $opt->{ignore})
                    || _matches($p, $opt->{extra});
            push @$diff, "$p: not in the IG example";
        }
        return;
    }
    if (ref $e eq 'ARRAY') {
        unless (ref $g eq 'ARRAY') {
            push @$diff, "$path: expected an array";
            return;
        }
        my $n = @$e > @$g ? @$e : @$g;
        for my $i (0 .. $n - 1) {
            my $p = "$path\[$i\]";
            if ($i >= @$g) {
                push @$diff, "$p: missing";
            }
            elsif ($i >= @$e) {
                push @$diff, "$p: not in the IG example"
                    unless _matches($p, $opt->{extra});
            }
            else {
                _cmp($g->[$i], $e->[$i], $p, $opt, $diff);
            }
        }
        return;
    }
    my $want = $e;
    $want = $opt->{subst}{$e} if defined $e && !ref $e && $opt->{subst}
                                 && exists $opt->{subst}{$e};
    my $gs = ref $g ? $JSON->encode($g) : $g;
    my $ws = ref $want ? $JSON->encode($want) : $want;
    if (!defined $gs || !defined $ws || "$gs" ne "$ws") {
        push @$diff, "$path: got " . ($gs // 'null') . ', IG has '
                     . ($ws // 'null');
    }
}

1;
