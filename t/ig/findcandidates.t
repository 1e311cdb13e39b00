# The IG's $FindCandidates example (operations.md 1),
# Bundle-FindCandidates-Request/Response.json, field by field.
#
# The IG pairs a request for "Apolo Frieson" with a response listing two
# other people (Pinchock, Sanon), and scores (159, 91) from BC's own
# engine.  So: (1) the request as published, after storing a client that
# matches it and the two clients of the response, is compared envelope by
# envelope (Parameters, OperationOutcome, search modes); (2) for each
# client of the response, the same request with that client's
# demographics put in (name, gender, birth date, physical address, the
# example's criteria) must return that client first, and the returned
# Patient must equal the IG's field by field.  Differences allowed, each a
# recorded decision: ids, timestamps, message ids, URLs, the example PHNs
# (invalid check digits) replaced by valid ones, the score value (our
# integer scale, D-13), no messageDateTime (D-06), requestParameters
# (D-04), details.text (CR-OO-006), assigner.display on an SRI the example
# left without one (CR-GD-014), meta.versionId/lastUpdated, no narrative.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use CR::BC;

plan tests => 16;

my $JSON = JSON::PP->new->canonical;
sub copy { $JSON->decode($JSON->encode($_[0])) }

sub by_name {
    my $b = shift;
    for my $e (@{ $b->{entry} }) {
        my $r = $e->{resource};
        next unless ($r->{resourceType} // '') eq 'Parameters';
        $r->{parameter} = { map { $_->{name} => $_ } @{ $r->{parameter} } };
    }
    return $b;
}

my $req = ig_fixture('Bundle-FindCandidates-Request.json');
my $exp = ig_fixture('Bundle-FindCandidates-Response.json');
push @{ $req->{entry}[0]{resource}{parameter} },
    { name => 'sender', valueIdentifier => {
        system => 'http://hlth.gov.bc.ca/fhir/client/bc-org',
        value => 'VIHA' } };

# The client the request describes, and the two of the response.
my $frieson = copy($req->{entry}[1]{resource});
delete @$frieson{qw(id meta text)};
$frieson->{identifier} = [ { system => PHN_SYS, value => fresh_phn() } ];
my $fid = store_patient($frieson);
my %subst;
my @ids;
for my $i (0, 1) {
    my $p = ig_patient($exp, $i);
    my $phn = fresh_phn();
    $subst{ $p->{identifier}[0]{value} } = $phn;
    $p->{identifier}[0]{value} = $phn;
    push @ids, store_patient($p);
}
ok($fid && @ids == 2, 'setup: the requested client and the two clients of '
   . 'the response stored');

my $before = db_snapshot();
my $res = op_post('FindCandidates', $req, UserId => 'ig.samples@cgi.com');
is($res->code, 200, 'CR-FC-001: the IG request: 200');
my $got = json_of($res);
fhir_valid($res, 'CR-GEN-034: the response is valid FHIR R4');
is($got->{type}, 'searchset', 'CR-FC-001: a searchset');
my @m = patients_of($got);
is_deeply([ map { $_->{id} } @m ], [ $fid ],
          'CR-FC-021: the client the request describes, and only it');
my @d = ig_compare(
    by_name({ %$got, entry => [ @{ $got->{entry} }[0, 1] ] }),
    by_name({ %{ copy($exp) }, entry => [ @{ copy($exp)->{entry} }[0, 1] ] }),
    ignore => [ qr/^(id|timestamp|total)$/, qr/^identifier\.value$/,
                qr/^link\[0\]\.url$/, qr/^entry\[\d+\]\.fullUrl$/,
                qr/^entry\[\d+\]\.resource\.(id|text)$/,
                qr/\.parameter\.(messageId|requestMessageId)\.valueString$/,
                qr/\.parameter\.messageDateTime$/ ],
    extra => [ qr/\.parameter\.requestParameters$/, qr/\.details\.text$/ ]);
is_deeply(\@d, [], 'CR-FC-002, CR-FC-003, CR-FC-007, CR-GEN-022..024: '
          . 'Bundle, Parameters and OperationOutcome equal '
          . 'Bundle-FindCandidates-Response.json field by field')
    or diag(join "\n", @d);
my ($pe) = entries_of($got, 'Patient');
ok($pe->{search}{mode} eq 'match' && $pe->{search}{score} =~ /^\d+$/,
   'CR-FC-004: search.mode match and an integer score (D-13)');
is(db_snapshot(), $before, 'CR-FC-032: the search changed no data');

# Each client of the response, found by its own demographics.
for my $i (0, 1) {
    my $want = copy((patients_of($exp))[$i]);
    my $q = copy($req);
    my $qp = $q->{entry}[1]{resource};
    my ($usual) = grep { $_->{use} eq 'usual' } @{ $want->{name} };
    my ($phys) = grep { $_->{type} eq 'physical' } @{ $want->{address} };
    $qp->{name} = [ { use => 'usual', family => $usual->{family},
                      given => [ $usual->{given}[0] ] } ];
    $qp->{gender} = $want->{gender};
    $qp->{birthDate} = $want->{birthDate};
    $qp->{address} = [ { type => 'physical', line => $phys->{line},
                         city => $phys->{city}, state => $phys->{state},
                         country => $phys->{country} } ];
    $res = op_post('FindCandidates', $q);
    is($res->code, 200, "CR-FC-014: the IG request with client ${i}'s "
       . 'demographics: 200');
    $got = json_of($res);
    fhir_valid($res, 'CR-GEN-034: the response is valid FHIR R4');
    my @p = entries_of($got, 'Patient');
    is($p[0]{resource}{id}, $ids[$i], "CR-FC-021: client $i comes first");
    @d = ig_compare(
        $p[0], (entries_of(copy($exp), 'Patient'))[$i],
        ignore => [ qr/^fullUrl$/, qr/^resource\.(id|text)$/,
                    qr/^search\.score$/ ],
        extra => [ qr/^resource\.meta\.(versionId|lastUpdated)$/,
                   qr/^resource\.identifier\[\d+\]\.assigner$/ ],
        subst => \%subst);
    is_deeply(\@d, [], "CR-FC-030: the returned Patient equals client $i of "
              . 'Bundle-FindCandidates-Response.json field by field')
        or diag(join "\n", @d);
}
