#!/usr/bin/perl
# The test callback receiver of the asynchronous operations (t/api/
# async.t): a partner's [client-base]/Patient/$<Op>.Async endpoint.
# While t/var/cb-down exists it answers 503 (the endpoint is down); while
# t/var/cb-slow exists it first waits 3 seconds (a slow partner,
# t/persistence/stop_delivery.t);
# otherwise it stores each request (first line the path, then the body)
# in t/var/callbacks/ and answers 202 as the IG says a client does.
use strict;
use warnings;
use FindBin;

my $var = "$FindBin::Bin/../var";
my $len = $ENV{CONTENT_LENGTH} || 0;
my $body = '';
read(STDIN, $body, $len) if $len > 0 && $len < 10_000_000;
sleep 3 if -e "$var/cb-slow";
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
