# The IG's FindCandidates-by-mother's-PHN example (operations.md 1,
# profiles.md 4.4), Bundle-FindNewbornByMumsPHN-Request/Response.json.
# The mother and her two babies of the response are stored, each baby
# with its mother as a contained RelatedPerson (NMTH, her PHN).  The
# example PHNs fail the check digit (the request's 9999999999 too), so
# the published request must be refused and the one with valid PHNs is
# compared with the response field by field.  Differences allowed, each a
# recorded decision: ids, timestamps, message ids, URLs; the baby
# Patients carry their contained mother; every Patient entry has
# search.mode = match and a score (0.4); the RelatedPersons carry the
# mother's PHN and reference the babies' entries, and the mother's links
# reference the RelatedPersons' entries (D-14: the example's references
# resolve to nothing); no messageDateTime (D-06), requestParameters
# (D-04), details.text (CR-OO-006), meta.versionId/lastUpdated.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 16;

my $JSON = JSON::PP->new->canonical;
sub copy { $JSON->decode($JSON->encode($_[0])) }

my $req = ig_fixture('Bundle-FindNewbornByMumsPHN-Request.json');
my $exp = ig_fixture('Bundle-FindNewbornByMumsPHN-Response.json');

my %subst;
my $mphn = fresh_phn();
$subst{9999999999} = $mphn;
my $mother = ig_patient($exp, 2);
delete $mother->{link};          # the response's decoration, not data
$mother->{identifier}[0]{value} = $mphn;
my $mid = store_patient($mother);
my %kid;
for my $i (0, 1) {
    my $b = ig_patient($exp, $i);
    my $phn = fresh_phn();
    $subst{ $b->{identifier}[0]{value} } = $phn;
    $b->{identifier}[0]{value} = $phn;
    $b->{contained} = mother_of($mphn);
    $kid{$phn} = store_patient($b);
}
ok($mid && keys %kid == 2, 'setup: the mother and her two babies stored');

my $res = op_post('FindCandidates', $req);
is($res->code, 422, 'CR-FC-027: the IG request as published (mother PHN '
   . '9999999999 fails the check digit): 422');
is_deeply(error_details(json_of($res)), ['BCHCIM.FC.2.0124'],
          'CR-FC-027: BCHCIM.FC.2.0124');
fhir_valid($res, 'CR-GEN-034: the rejection is valid FHIR R4');

$req->{entry}[1]{resource}{identifier}[0]{value} = $mphn;
push @{ $req->{entry}[0]{resource}{parameter} },
    { name => 'sender', valueIdentifier => {
        system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
        value => 'FHA' } };
my $before = db_snapshot();
$res = op_post('FindCandidates', $req, UserId => 'ig.samples@cgi.com');
is($res->code, 200, 'CR-FC-023: the IG request with a valid mother PHN: '
   . '200');
my $got = json_of($res);
fhir_valid($res, 'CR-GEN-034: the response is valid FHIR R4');
is($got->{total}, 3, 'CR-FC-006: total 3 (mother and two babies, not the '
   . 'RelatedPersons)');
is(db_snapshot(), $before, 'CR-FC-032: the search changed no data');

# Parameters and OperationOutcome.
my %p = %{ params_of($got) };
is_deeply([ $p{sender}{value}, $p{enterer}{value}, $p{identifiersOnly},
            $p{requestMessageId} ],
          [ 'FHA', 'ig.samples@cgi.com', JSON::PP::false,
            '9acccdc8-b4d0-4ac7-9f10-80d0c80136e4' ],
          'CR-GEN-023..026: sender, enterer, identifiersOnly echoed, '
          . 'requestMessageId');
is_deeply([ issues_of($got) ], [ 'information business-rule BCHCIM.FC.0.0012' ],
          'CR-FC-007: BCHCIM.FC.0.0012 as the IG example');

# The Patients, matched by PHN (the babies' order is the registry's).
my %url = map { $_->{fullUrl} => $_ } @{ $got->{entry} };
my @diff;
for my $e (entries_of(copy($exp), 'Patient')) {
    my $phn = $subst{ $e->{resource}{identifier}[0]{value} };
    my ($g) = grep { $_->{resource}{identifier}[0]{value} eq $phn }
              entries_of($got, 'Patient');
    unless ($g) {
        push @diff, "Patient $phn: missing";
        next;
    }
    push @diff, ig_compare(
        $g, $e,
        ignore => [ qr/^fullUrl$/, qr/^resource\.(id|text)$/,
                    qr/^resource\.link\[\d+\]\.other\.reference$/ ],
        extra => [ qr/^resource\.meta\.(versionId|lastUpdated)$/,
                   qr/^resource\.contained$/, qr/^search$/ ],
        subst => \%subst);
}
is_deeply(\@diff, [], 'CR-FC-023, CR-FC-030: mother and babies equal the '
          . 'Patients of Bundle-FindNewbornByMumsPHN-Response.json field '
          . 'by field') or diag(join "\n", @diff);

my @rp = entries_of($got, 'RelatedPerson');
is(scalar(@rp), 2, 'CR-FC-024: one RelatedPerson per baby');
ok(!grep({ ($_->{search}{mode} // '') ne 'include'
           || $_->{resource}{relationship}[0]{coding}[0]{code} ne 'NMTH' }
         @rp), 'CR-FC-024, CR-TERM-003: mode include, relationship NMTH');
my @babies = sort map { $url{ $_->{resource}{patient}{reference} }
                          ? $url{ $_->{resource}{patient}{reference} }
                                {resource}{id} : 'unresolved' } @rp;
is_deeply(\@babies, [ sort values %kid ],
          'CR-FC-025: each RelatedPerson references a baby entry in the '
          . 'Bundle (D-14)');
ok(!grep({ ($_->{resource}{identifier}[0]{value} // '') ne $mphn } @rp),
   "CR-FC-025: each RelatedPerson carries the mother's PHN (D-14)");
my ($m) = grep { $_->{id} eq $mid } patients_of($got);
is_deeply([ sort map { $_->{type} . ' ' . (($url{ $_->{other}{reference} }
                                           // {})->{resource}
                                           {resourceType} // '?') }
            @{ $m->{link} || [] } ],
          [ 'seealso RelatedPerson', 'seealso RelatedPerson' ],
          'CR-FC-026: the mother links (seealso) to each RelatedPerson '
          . 'entry');
