# The steward's console (docs/console.md) in a real browser: headless
# Chromium (Debian's chromium) driven by puppeteer-core (t/browser/
# package.json, installed by ./quickstart with npm ci) against this test
# httpd, which serves the console from the source tree (t/conf/
# extra.conf.in).  t/browser/console-test.js loads two known duplicate
# pairs through the API, then as a steward: opens the queue, compares a
# pair and finds the matcher's evidence, dismisses it with a comment,
# merges the other and unmerges it, checking the stored state through the
# API after each step; screenshots of every screen are kept in
# t/browser/screens/.  Its TAP lines are replayed here, one test each.
# CR_SKIP_BROWSER=1 skips the file (the sanitizer pass of ./quickstart
# test, whose module build this test adds nothing to).
use strict;
use warnings FATAL => 'all';
use Apache::Test qw(-withtestmore);
use Apache::TestRequest ();
use File::Spec;

my $dir = File::Spec->catdir(Apache::Test::vars('serverroot'), 'browser');
my $chromium = $ENV{CR_CHROMIUM} || '/usr/bin/chromium';

if ($ENV{CR_SKIP_BROWSER}) {
    plan skip_all => 'CR_SKIP_BROWSER is set';
    exit 0;
}

my $base = 'http://' . Apache::TestRequest::hostport(Apache::Test::config());
my @out;
my $why = !-x $chromium ? "$chromium is missing (./quickstart test installs chromium)"
        : !-d "$dir/node_modules/puppeteer-core"
          ? "t/browser/node_modules is missing (./quickstart test runs npm ci there)"
          : undef;
unless ($why) {
    # The whole run is bounded: timeout stops a browser that hangs.
    if (open(my $fh, '-|', 'timeout', '600', 'node',
             "$dir/console-test.js", $base)) {
        @out = <$fh>;
        close $fh;
    }
    else {
        $why = "cannot run node: $!";
    }
}
my ($n) = map { /^1\.\.(\d+)/ ? $1 : () } @out;
if (!$n) {
    plan tests => 1;
    ok(0, 'the browser test ran' . ($why ? ": $why" : ''));
    diag($_) for @out;
    exit 0;
}
plan tests => $n;
my $seen = 0;
for my $line (@out) {
    chomp $line;
    if ($line =~ /^(not )?ok \d+ - (.*)$/) {
        ok(!$1, "CR-CONSOLE: $2");
        $seen++;
    }
    elsif ($line =~ /^#/) {
        diag($line);
    }
}
ok(0, "CR-CONSOLE: missing result $_") for $seen + 1 .. $n;
