#!/usr/bin/perl
# The test callback receiver of the asynchronous operations (t/api/
# async.t): a partner's [client-base]/Patient/$<Op>.Async endpoint.
# While t/var/cb-down exists it answers 503 (the endpoint is down); while
# t/var/cb-slow exists it first waits 3 seconds (a slow partner,
# t/persistence/stop_delivery.t);
# otherwise it stores each request (first line the path, then the body)
# in t/var/callbacks/ and answers 202 as the IG says a client does.
# The Authorization header of each request is appended to t/var/cb-auth.log
# (t/api/outbound_token.t); a bearer token listed in t/var/cb-revoked is
# refused with 401.
use strict;
use warnings;
use FindBin;

my $var = "$FindBin::Bin/../var";
my $len = $ENV{CONTENT_LENGTH} || 0;
my $body = '';
read(STDIN, $body, $len) if $len > 0 && $len < 10_000_000;
sleep 3 if -e "$var/cb-slow";
my $auth = $ENV{HTTP_AUTHORIZATION} // '';
if (open my $lf, '>>', "$var/cb-auth.log") {
    print $lf "$auth\n";
    close $lf;
}
if ($auth =~ /^Bearer (\S+)$/ && open my $rf, '<', "$var/cb-revoked") {
    my $tok = $1;
    my @revoked = map { chomp; $_ } <$rf>;
    close $rf;
    if (grep { $_ eq $tok } @revoked) {
        print "Status: 401 Unauthorized\r\nContent-Type: text/plain\r\n\r\n"
            . "revoked\n";
        exit 0;
    }
}
if (-e "$var/cb-down") {
    print "Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\n"
        . "down\n";
    exit 0;
}
mkdir "$var/callbacks";
my $f = sprintf('%s/callbacks/%d-%d-%d.txt', $var, time, $$, int(rand(1e6)));
if (open my $fh, '>', "$f.tmp") {
    print $fh ($ENV{PATH_INFO} // ''), "\n", $body;
    close $fh;
    rename "$f.tmp", $f;
}
print "Status: 202 Accepted\r\nContent-Type: text/plain\r\n\r\n";
