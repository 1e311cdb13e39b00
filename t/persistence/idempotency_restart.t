# Idempotent messageId across an httpd restart (CR-PARAM-004): the claim
# and the answer are in the database, so a repeat after a restart gets
# the original answer and does no work.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use CR::Test;
use CR::BC;

plan tests => 6;

my $server = Apache::Test::config()->server;
my $tok = unique_token();
my %U = (UserId => 'restart@test');
my $body = bc_request(
    params => [ { name => 'messageId', valueString => "idem-restart-$tok" } ],
    patient => { resourceType => 'Patient',
        identifier => [ { use => 'official',
                          system => sprintf(SRI_SYS, 'viha-north'),
                          value => "RS$tok" } ],
        name => [ { use => 'usual', family => "Idemrestart$tok",
                    given => ['Ray'] } ],
        gender => 'male', birthDate => '1961-01-02',
        address => [ { type => 'physical', line => ['3 Stop St'],
                       city => 'Victoria', state => 'BC',
                       country => 'CA' } ] });

my $res = op_post('AddPatient', $body, %U);
is($res->code, 201, 'CR-PARAM-004: processed before the restart: 201');
my $first = json_of($res);
my $versions = db_row('SELECT COUNT(*) AS n FROM cr_patient_version')->{n};

$server->stop;
$server->start;
Apache::TestRequest::user_agent(reset => 1);

$res = op_post('AddPatient', $body, %U);
is($res->code, 201, 'CR-PARAM-004: repeated after the restart: the '
   . 'original 201');
is_deeply(json_of($res), $first, 'CR-PARAM-004: ... the original body');
is(db_row('SELECT COUNT(*) AS n FROM cr_patient_version')->{n}, $versions,
   'CR-PARAM-004: ... and no work done');
my $changed = { %$body, entry => [ @{ $body->{entry} } ] };
$changed->{entry}[1] = { %{ $body->{entry}[1] }, resource => {
    %{ $body->{entry}[1]{resource} }, gender => 'female' } };
$res = op_post('AddPatient', $changed, %U);
is($res->code, 422, 'CR-PARAM-004: another body with it after the '
   . 'restart: 422');
is_deeply(error_details(json_of($res)), ['BCHCIM.RP.2.0440'],
          'CR-PARAM-004: ... BCHCIM.RP.2.0440');
