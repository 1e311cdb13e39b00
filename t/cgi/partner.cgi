#!/usr/bin/perl
# The test partner receiving notifications (t/api/notify.t,
# t/persistence/notify_restart.t, bench/notify.sh): POST
# /partner/<name>/Patient/$PatientNotification.  Each request is stored in
# t/var/partner/<name>/ as one file: first line the path, second the
# Authorization header, third the time of receipt (epoch seconds with
# microseconds), then the body.  Switches per partner, files in t/var:
# partner-<name>-down (answer 503), partner-<name>-slow (wait 3 seconds
# first), partner-<name>-token (answer 401 unless the bearer token is one
# t/cgi/token.cgi issued).  Otherwise it answers 200 as the IG says a
# partner does.
use strict;
use warnings;
use FindBin;
use Time::HiRes ();

my $var = "$FindBin::Bin/../var";
my $len = $ENV{CONTENT_LENGTH} || 0;
my $body = '';
read(STDIN, $body, $len) if $len > 0 && $len < 10_000_000;
my $path = $ENV{PATH_INFO} // '';
my ($name) = $path =~ m{^/([A-Za-z0-9_-]{1,32})/};
$name //= 'none';

sub answer {
    my $status = shift;
    print "Status: $status\r\nContent-Type: text/plain\r\n\r\n";
    exit 0;
}
sleep 3 if -e "$var/partner-$name-slow";
# A request cut short (the sending httpd SIGKILLed while the body was on
# its way: t/persistence/notify_restart.t) is not a notification received,
# as a real partner would refuse a body shorter than its Content-Length.
answer('400 Bad Request') if length($body) != $len;
answer('503 Service Unavailable') if -e "$var/partner-$name-down";
my $auth = $ENV{HTTP_AUTHORIZATION} // '';
if (-e "$var/partner-$name-token") {
    my ($tok) = $auth =~ /^Bearer (\S+)$/;
    my $ok = 0;
    if ($tok && open my $fh, '<', "$var/tokens.txt") {
        while (<$fh>) {
            $ok = 1 if (split / /)[0] eq $tok;
        }
        close $fh;
    }
    answer('401 Unauthorized') unless $ok;
}
my $t = Time::HiRes::time();
mkdir "$var/partner";
mkdir "$var/partner/$name";
my $f = sprintf('%s/partner/%s/%.6f-%d-%d.txt', $var, $name, $t, $$,
                int(rand(1e6)));
if (open my $fh, '>', "$f.tmp") {
    printf $fh "%s\n%s\n%.6f\n%s", $path, $auth, $t, $body;
    close $fh;
    rename "$f.tmp", $f;
}
answer('200 OK');
