# Idempotent $merge across an httpd restart (CR-PARAM-004): the claim and
# the answer of its Request-Id are in the database, so a repeat after a
# restart gets the original answer and merges nothing; another body with
# that Request-Id is still refused.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use CR::Test;
use CR::BC;

plan tests => 8;

my $server = Apache::Test::config()->server;
my $tok = unique_token();
my $fha = sprintf(SRI_SYS, 'fha-mt');
my %U = (UserId => 'merge.restart@test');
my $JSON = JSON::PP->new->canonical;
my ($ida) = merge_person($fha, "MSA$tok", "Mergerestarta$tok", 'Alan',
                         '1960-01-01', %U);
my ($idb) = merge_person($fha, "MSB$tok", "Mergerestartb$tok", 'Bert',
                         '1961-02-02', %U);
my ($idc) = merge_person($fha, "MSC$tok", "Mergerestartc$tok", 'Cora',
                         '1962-03-03', %U);
sub body { { resourceType => 'Parameters', parameter => [
    { name => 'target-patient', valueReference => {
        reference => "Patient/$_[0]" } },
    { name => 'source-patient', valueReference => {
        reference => "Patient/$_[1]" } } ] } }
my $mid = "merge-restart-$tok";
sub events { db_row('SELECT COUNT(*) AS n FROM cr_merge_event WHERE '
                    . 'message_id = ?', $mid)->{n} }

my $res = op_post('merge', body($ida, $idb), %U, 'Request-Id' => $mid);
is($res->code, 200, 'CR-PARAM-004: $merge before the restart: 200');
my $first = json_of($res);
my $versions = db_row('SELECT COUNT(*) AS n FROM cr_patient_version')->{n};

$server->stop;
$server->start;
Apache::TestRequest::user_agent(reset => 1);

$res = op_post('merge', body($ida, $idb), %U, 'Request-Id' => $mid);
is($res->code, 200, 'CR-PARAM-004: repeated after the restart: the '
   . 'original 200');
is($JSON->encode(json_of($res)), $JSON->encode($first),
   'CR-PARAM-004: ... the original body');
is(db_row('SELECT COUNT(*) AS n FROM cr_patient_version')->{n}, $versions,
   'CR-PARAM-004: ... no new version anywhere');
is(events(), 1, 'CR-PARAM-004: ... one merge event');
$res = op_post('merge', body($ida, $idc), %U, 'Request-Id' => $mid);
is($res->code, 422, 'CR-PARAM-004: another body with it after the '
   . 'restart: 422');
my ($oc) = grep { $_->{name} eq 'outcome' } @{ json_of($res)->{parameter} };
is_deeply([ map { $_->{details}{coding}[0]{code} }
            @{ $oc->{resource}{issue} } ], [ 'BCHCIM.PM.2.0440' ],
          'CR-PARAM-004: ... BCHCIM.PM.2.0440');
is(client_state($idc)->{replaced_by}, undef,
   'CR-PARAM-004: ... C not merged');
