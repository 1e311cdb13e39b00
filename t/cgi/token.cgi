#!/usr/bin/perl
# The test OAuth2 token endpoint (client credentials, RFC 6749 4.4) of the
# registry's outbound requests (CR-NOT-007; t/api/outbound_token.t,
# t/api/notify.t).  It accepts client "cr-registry" with secret
# "s3cret+/x" (HTTP Basic, form-encoded as RFC 6749 2.3.1 says) and
# grant_type=client_credentials, and answers a new Bearer token
# "tok-<n>-<random>" valid for the seconds in t/var/token-expires (300 when
# absent).  Each token issued is appended to t/var/tokens.txt with the
# scope asked for.  While t/var/token-down exists it answers 503.
use strict;
use warnings;
use FindBin;
use MIME::Base64 qw(decode_base64);

my $var = "$FindBin::Bin/../var";
my $len = $ENV{CONTENT_LENGTH} || 0;
my $body = '';
read(STDIN, $body, $len) if $len > 0 && $len < 65536;

sub answer {
    my ($status, $json) = @_;
    print "Status: $status\r\nContent-Type: application/json\r\n"
        . "Cache-Control: no-store\r\n\r\n$json";
    exit 0;
}
sub unform {
    my $s = shift // '';
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
    return $s;
}
answer('503 Service Unavailable', '{"error":"temporarily_unavailable"}')
    if -e "$var/token-down";
answer('405 Method Not Allowed', '{"error":"invalid_request"}')
    unless ($ENV{REQUEST_METHOD} // '') eq 'POST';
my %f = map { my ($k, $v) = split /=/, $_, 2; (unform($k), unform($v)) }
        split /&/, $body;
my ($b64) = ($ENV{HTTP_AUTHORIZATION} // '') =~ /^Basic\s+(\S+)$/;
my ($id, $secret) = split /:/, decode_base64($b64 // ''), 2;
answer('401 Unauthorized', '{"error":"invalid_client"}')
    unless unform($id) eq 'cr-registry' && unform($secret) eq 's3cret+/x';
answer('400 Bad Request', '{"error":"unsupported_grant_type"}')
    unless ($f{grant_type} // '') eq 'client_credentials';
my $life = 300;
if (open my $fh, '<', "$var/token-expires") {
    $life = 0 + (<$fh> // 300);
    close $fh;
}
my $n = 0;
if (open my $fh, '<', "$var/tokens.txt") {
    $n++ while <$fh>;
    close $fh;
}
my $tok = sprintf('tok-%d-%06d', $n + 1, int(rand(1e6)));
if (open my $fh, '>>', "$var/tokens.txt") {
    print $fh "$tok ", ($f{scope} // ''), "\n";
    close $fh;
}
answer('200 OK', qq({"access_token":"$tok","token_type":"Bearer",)
    . qq("expires_in":$life,"scope":"@{[ $f{scope} // '' ]}"}));
