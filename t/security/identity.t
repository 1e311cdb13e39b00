# The verified client certificate and the UserId header are recorded with
# every version written (provenance), over mod_ssl with client
# certificates from the test CA.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;

plan tests => 7;

my $res = fhir_request('POST', '/fhir/Patient', sample_patient(),
                       module => 'mod_ssl', cert => 'client_fha',
                       UserId => 'jdoe@FHA');
is($res->code, 201, 'create over TLS with a client certificate: 201');
my $id = json_of($res)->{id};
my $v = db_row('SELECT client_dn, user_id FROM cr_patient_version WHERE patient_id = ?', $id);
like($v->{client_dn}, qr/CN=fha-meditech/, 'provenance: the certificate subject');
like($v->{client_dn}, qr/OU=FHA_MT/, 'provenance: with its source-system OU');
is($v->{user_id}, 'jdoe@FHA', 'provenance: the user');

$res = fhir_request('POST', '/fhir/Patient', sample_patient(),
                    module => 'mod_ssl');
is($res->code, 201, 'create over TLS without a certificate: 201 (optional)');
$id = json_of($res)->{id};
is(db_row('SELECT client_dn FROM cr_patient_version WHERE patient_id = ?', $id)->{client_dn},
   undef, 'provenance: no certificate, no subject');

$res = fhir_request('POST', '/fhir/Patient', sample_patient());
$id = json_of($res)->{id};
is(db_row('SELECT client_dn FROM cr_patient_version WHERE patient_id = ?', $id)->{client_dn},
   undef, 'plain http: no subject');
