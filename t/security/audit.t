# The audit trail: every request is recorded (reads, searches, writes,
# rejections), hash-chained; tampering is detected by the admin operation
# and by cr-admin audit-verify; AuditEvent search by patient, agent, date.
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use CR::Test;
use MIME::Base64 qw(decode_base64);

plan tests => 24;

my ($res, $p) = create_patient(given => 'Audited');
my $id = $p->{id};
my $msg = $res->header('X-Request-Id');
fhir_get("/fhir/Patient/$id", 'Request-Id' => 'read-of-audited');
my $fam = $p->{name}[0]{family};
fhir_get("/fhir/Patient?family=$fam");
fhir_post('/fhir/Patient', { resourceType => 'Observation' });
sleep 1;    # the batch writer flushes every 200 ms

my $w = db_row('SELECT * FROM cr_audit WHERE message_id = ?', $msg);
is($w->{operation}, 'create', 'the create is audited');
is($w->{action}, 'C', 'action C');
is($w->{status}, 201, 'with its status');
is($w->{patients}, $id, 'and the patient touched');
like($w->{hash}, qr/^[0-9a-f]{64}$/, 'hash-chained (SHA-256)');
# The record before it in its chain (schema 013: SQLite's one chain 0;
# PostgreSQL's appenders each extend one of several).
my $prev = db_row('SELECT hash FROM cr_audit WHERE chain = ? AND chain_seq = ?',
                  $w->{chain}, $w->{chain_seq} - 1);
is($w->{prev_hash}, $prev ? $prev->{hash} : '0' x 64,
   'linked to the previous record of its chain');

my $r = db_row("SELECT * FROM cr_audit WHERE message_id = 'read-of-audited'");
is($r->{operation}, 'read', 'the read is audited');
is($r->{patients}, $id, 'with the patient read');
my $s = db_row("SELECT * FROM cr_audit WHERE operation = 'search-type' AND query LIKE ?",
               "%$fam%");
is($s->{patients}, $id, 'the search is audited with the patients returned');
my $bad = db_row("SELECT * FROM cr_audit WHERE status = 400 AND method = 'POST' ORDER BY seq DESC LIMIT 1");
ok($bad, 'a rejected request is audited');

# --- AuditEvent search (admin; /fhir is open in the test config) ----------------
$res = fhir_get("/fhir/AuditEvent?patient=Patient/$id");
is($res->code, 200, 'AuditEvent search by patient: 200');
my $b = json_of($res);
ok($b->{total} >= 3, 'at least create, read and search found');
my ($ev) = grep { $_->{subtype}[0]{code} eq 'create' } map { $_->{resource} } @{ $b->{entry} };
is($ev->{resourceType}, 'AuditEvent', 'an AuditEvent');
is($ev->{action}, 'C', 'AuditEvent.action C');
is($ev->{outcome}, '0', 'AuditEvent.outcome success');
is($ev->{entity}[0]{what}{reference}, "Patient/$id", 'AuditEvent.entity: the patient');
$res = fhir_get('/fhir/AuditEvent?date=ge2000-01-01&_count=2');
is(scalar @{ json_of($res)->{entry} }, 2, 'AuditEvent search by date with _count');
$res = fhir_get('/fhir/AuditEvent?bogus=1');
is($res->code, 400, 'AuditEvent: unknown parameter 400');

# --- verification ----------------------------------------------------------------
$res = fhir_post('/fhir/AuditEvent/$verify', {});
is($res->code, 200, 'AuditEvent/$verify: 200');
my %out = map { $_->{name} => ($_->{valueBoolean} // $_->{valueInteger}) }
          @{ json_of($res)->{parameter} };
ok($out{intact}, 'the chain is intact');
my $verify = cr_admin_cmd('audit-verify');
my $o = `$verify`;
is($? >> 8, 0, 'cr-admin audit-verify: intact') or diag $o;

# Tamper: change one field of one record.
db_dbh()->do('UPDATE cr_audit SET status = 200 WHERE seq = ?', undef, $bad->{seq});
$res = fhir_post('/fhir/AuditEvent/$verify', {});
%out = map { $_->{name} => ($_->{valueBoolean} // $_->{valueInteger}) }
       @{ json_of($res)->{parameter} };
is($out{firstBroken}, $bad->{seq}, 'an edited record is detected at its position');
$o = `$verify`;
is($? >> 8, 3, 'cr-admin audit-verify: exit 3 when broken');
# Restore it so later tests see an intact chain.
db_dbh()->do('UPDATE cr_audit SET status = 400 WHERE seq = ?', undef, $bad->{seq});

# Bytes that are not UTF-8 in the request line are audited as %XX (the
# PostgreSQL store refuses invalid UTF-8 text; one such record used to
# fail the audit worker's whole batch).
{
    require IO::Socket::INET;
    my $hp = Apache::TestRequest::hostport();
    my $tag = unique_name('Raw');
    my $sock = IO::Socket::INET->new(PeerAddr => $hp) or die "$hp: $!";
    print $sock "GET /fhir/Patient?family=$tag\xff\xfe HTTP/1.0\r\n"
        . "Host: $hp\r\nRequest-Id: raw-$tag\r\n\r\n";
    local $/;
    my $answer = <$sock>;
    close $sock;
    sleep 1;    # the batch writer
    my $raw = db_row('SELECT query FROM cr_audit WHERE message_id = ?',
                     "raw-$tag");
    is($raw && $raw->{query}, "family=$tag%FF%FE",
       'invalid UTF-8 in the query is audited, as %XX');
}
