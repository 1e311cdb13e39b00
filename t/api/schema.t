# A database whose schema version the module does not know: the module
# refuses to serve it (503 with an OperationOutcome) and logs why.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 6;

my $res = fhir_request('GET', '/fhir/Patient?family=x', undef, module => 'stale');
is($res->code, 503, 'unknown schema version: 503');
is_deeply(oo_codes($res), ['transient'], 'unknown schema version: transient');
ok($res->header('Retry-After'), 'unknown schema version: Retry-After');
$res = fhir_request('POST', '/fhir/Patient', sample_patient(), module => 'stale');
is($res->code, 503, 'unknown schema version: writes refused too');
is(db_dbh(t_dir() . '/var/stale.db', 1)->selectrow_array(
       'SELECT COUNT(*) FROM cr_patient'), 0, 'nothing written to it');
open my $fh, '<', t_dir() . '/logs/error_log' or die $!;
my $log = do { local $/; <$fh> };
like($log, qr/CR00006: database schema version 999 is not the version this module serves/,
     'the error log says why (CR00006)');
