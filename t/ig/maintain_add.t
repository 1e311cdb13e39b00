# The IG's $AddPatient and $RevisePatient examples, field by field
# (operations.md 3, 4): Bundle-AddPatient-Request/Response.json,
# Bundle-AddNewbornByMumsPHN-Request.json, Bundle-Revise-withMaxData-
# Request.json against Bundle-Revise-Response.json.  Differences allowed,
# each a recorded decision: ids, timestamps, message ids and URLs; the
# example PHNs that fail the check digit replaced by valid ones;
# messageDateTime not emitted (D-06), requestParameters added (D-04),
# details.text on each issue, meta.versionId/lastUpdated; the response
# Patient is the full composite (the examples list identifiers only), so
# its demographics and further identifiers are extra.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 15;

my $JSON = JSON::PP->new->canonical;
my %U = (UserId => 'ig.samples@cgi.com');

sub by_name {
    my $b = shift;
    for my $e (@{ $b->{entry} }) {
        my $r = $e->{resource};
        next unless ($r->{resourceType} // '') eq 'Parameters';
        $r->{parameter} = { map { $_->{name} => $_ } @{ $r->{parameter} } };
    }
    return $b;
}
sub sender {
    my ($req, $org) = @_;
    push @{ $req->{entry}[0]{resource}{parameter} },
        { name => 'sender', valueIdentifier => {
            system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
            value => $org } };
}

my @ignore = (qr/^id$/, qr/^identifier\.value$/, qr/^timestamp$/,
              qr/^link\[0\]\.url$/, qr/^entry\[\d+\]\.fullUrl$/,
              qr/^entry\[\d+\]\.resource\.id$/,
              qr/^entry\[\d+\]\.resource\.text$/,
              qr/\.parameter\.(messageId|requestMessageId)\.valueString$/,
              qr/\.parameter\.messageDateTime$/,
              qr/\.period\.start$/, qr/\.details\.text$/);
my @extra = (qr/\.parameter\.requestParameters$/,
             qr/\.details\.text$/,
             qr/^entry\[2\]\.resource\.meta\.(versionId|lastUpdated)$/,
             qr/^entry\[2\]\.resource\.(name|telecom|address|gender|birthDate|_?deceasedDateTime|_gender|_birthDate|contained)$/,
             qr/^entry\[2\]\.resource\.identifier\[\d+\]$/,
             qr/^entry\[2\]\.resource\.identifier\[\d+\]\.type$/,
             qr/^entry\[2\]\.resource\.identifier\[\d+\]\.assigner$/);

# ---- AddPatient (force create with a purported PHN) -----------------------
my $req = ig_fixture('Bundle-AddPatient-Request.json');
my $exp = ig_fixture('Bundle-AddPatient-Response.json');
my $phn = fresh_phn();
my $msp = '9' . substr(fresh_phn(), 1);
for my $id (@{ $req->{entry}[1]{resource}{identifier} }) {
    $id->{value} = $phn if $id->{value} eq '9253484802';
    $id->{value} = $msp if $id->{value} eq '9455882493';
}
# The VAC id must be new on every run.
$req->{entry}[1]{resource}{identifier}[1]{value} .= unique_token();
sender($req, 'HIBC');
my $res = op_post('AddPatient', $req, %U);
is($res->code, 201, 'CR-ADD-001: Bundle-AddPatient-Request.json: 201');
my $got = json_of($res);
fhir_valid($res, 'CR-GEN-034: the response is valid FHIR R4');
my @d = ig_compare(by_name($got), by_name($JSON->decode($JSON->encode($exp))),
                   ignore => \@ignore, extra => \@extra,
                   subst => { 9253484802 => $phn, 9455882493 => $msp });
is_deeply(\@d, [], 'CR-ADD-001: the response equals '
          . 'Bundle-AddPatient-Response.json field by field')
    or diag(join "\n", @d);
my ($p) = patients_of($got);
is($p->{identifier}[0]{value}, $phn, 'CR-ADD-001: the purported PHN is the '
   . 'client\'s PHN');

# ---- AddNewbornByMumsPHN ---------------------------------------------------
$req = ig_fixture('Bundle-AddNewbornByMumsPHN-Request.json');
# The mother: the client just added (her PHN replaces the example's).
$req->{entry}[2]{resource}{identifier}[0]{value} = $phn;
$req->{entry}[1]{resource}{identifier}[0]{value} .= unique_token();
sender($req, 'VIHA');
$res = op_post('AddPatient', $req, %U);
is($res->code, 201, 'CR-ADD-007: Bundle-AddNewbornByMumsPHN-Request.json: '
   . '201');
$got = json_of($res);
is_deeply([ issues_of($got) ], ['information business-rule BCHCIM.RP.0.0000'],
          'CR-ADD-007: a new PHN was assigned (BCHCIM.RP.0.0000)');
fhir_valid($res, 'CR-GEN-034: the response is valid FHIR R4');
($p) = patients_of($got);
is(db_row("SELECT value FROM cr_search_index WHERE patient_id = ? AND "
          . "kind = 'mother-phn'", $p->{id})->{value}, $phn,
   'CR-ADD-007: the newborn is linked to the mother');
# FindCandidates by the mother's PHN finds the baby.
$res = op_post('FindCandidates', bc_request(related => {
    resourceType => 'RelatedPerson',
    identifier => [ { system => PHN_SYS, value => $phn } ],
    patient => { reference => 'urn:uuid:x' },
    relationship => [ { coding => [ { system =>
        'http://terminology.hl7.org/CodeSystem/v3-RoleCode',
        code => 'NMTH' } ] } ] }), %U);
ok((grep { $_->{id} eq $p->{id} } patients_of(json_of($res))),
   'CR-ADD-007: FindCandidates by the mother\'s PHN returns the baby');

# ---- RevisePatient withMaxData -> Revise-Response -------------------------
$req = ig_fixture('Bundle-Revise-withMaxData-Request.json');
$exp = ig_fixture('Bundle-Revise-Response.json');
my $t = unique_token();
$_->{value} .= $t for grep { $_->{system} =~ /source-patient-id|ca-nb/ }
                      @{ $req->{entry}[1]{resource}{identifier} };
my $sri = $req->{entry}[1]{resource}{identifier}[0]{value};
# Other tests store the IG's example people: unique names keep the sure
# match of the revise from finding them (this request must create).
(my $lt = $t) =~ tr/0-9/a-j/;
$_->{family} .= $lt for grep { $_->{family} }
                       @{ $req->{entry}[1]{resource}{name} };
# G5 requires the effective date the G4 example predates (CR-REV-001).
$req->{entry}[1]{resource}{extension} = [ { url => 'http://hlth.gov.bc.ca/fhir/client/StructureDefinition/bc-business-period-extension', valuePeriod => { start => '2024-01-01' } } ];
sender($req, 'VPP');
$res = op_post('RevisePatient', $req, %U);
is($res->code, 201, 'CR-REV-001, CR-REV-002: Bundle-Revise-withMaxData-Request.json '
   . '(unknown SRI, no PHN): 201');
$got = json_of($res);
fhir_valid($res, 'CR-GEN-034: the response is valid FHIR R4');
($p) = patients_of($got);
my ($newphn) = map { $_->{value} } grep { $_->{system} eq PHN_SYS }
               @{ $p->{identifier} };
like($newphn // '', qr/^9\d{9}$/, 'CR-REV-001, CR-REV-002: a new PHN was assigned');
# Other tests store the IG's example people with other birth dates: when
# the matcher finds them probable, the response adds its review warning
# (issue 6) and the pairs are on the review list; the IG's registry had
# no such clients, so the warning is checked here and left out below.
my $oo = (grep { $_->{resource}{resourceType} eq 'OperationOutcome' }
          @{ $got->{entry} })[0]{resource};
my @warn = grep { $_->{severity} eq 'warning' } @{ $oo->{issue} };
my $listed = db_row("SELECT COUNT(*) AS n FROM cr_match_duplicate WHERE "
                    . "(patient_lo = ? OR patient_hi = ?) AND status = "
                    . "'open'", $p->{id}, $p->{id})->{n};
ok(@warn ? (@warn == 1 && $warn[0]{details}{coding}[0]{code}
            eq 'BCHCIM.RP.1.0164' && $listed > 0)
         : $listed == 0,
   'issue 6: the review warning BCHCIM.RP.1.0164 exactly when pairs were '
   . "listed ($listed listed)");
$oo->{issue} = [ grep { $_->{severity} ne 'warning' } @{ $oo->{issue} } ];
@d = ig_compare(by_name($got), by_name($JSON->decode($JSON->encode($exp))),
                ignore => [ @ignore, qr/^link$/ ], extra => \@extra,
                subst => { 9999999999 => $newphn,
                           '2B6F8GN410H1T27NPE' => $sri });
is_deeply(\@d, [], 'CR-REV-001, CR-REV-002: the response equals '
          . 'Bundle-Revise-Response.json field by field')
    or diag(join "\n", @d);
# The same snapshot again, in a new message (the same messageId would get
# the first answer again, CR-PARAM-004): the source record is known now.
$_->{valueString} .= '-2' for grep { $_->{name} eq 'messageId' }
                              @{ $req->{entry}[0]{resource}{parameter} };
$res = op_post('RevisePatient', $req, %U);
is_deeply([ $res->code, issues_of(json_of($res)) ],
          [ 200, 'information business-rule BCHCIM.RP.0.0021' ],
          'CR-REV-003: the same revise again updates the record: 200, '
          . 'BCHCIM.RP.0.0021');
