package robotstxt

import (
	"bytes"
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// check is one question put to a robots.txt: may agent fetch path?
type check struct {
	agent string
	path  string // path and query as they appear in the request (or raw, where the case says so)
	want  bool   // true: allowed
}

// testCase is one robots.txt and the questions asked of it. why names the
// RFC 9309 section, Google's documented behaviour, or the public bug report
// the case was rebuilt from.
type testCase struct {
	name   string
	why    string
	body   string
	checks []check
}

func run(t *testing.T, cases []testCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := Parse([]byte(tc.body))
			for _, c := range tc.checks {
				if got := r.Allowed(c.agent, c.path); got != c.want {
					t.Errorf("Allowed(%q, %q) = %v, want %v\n  (%s)\n  robots.txt:\n%s", c.agent, short(c.path), got, c.want, tc.why, indent(tc.body))
				}
			}
		})
	}
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(short(s), "\n", "\n    ")
}

// short keeps failure messages readable when inputs are huge.
func short(s string) string {
	if len(s) > 300 {
		return s[:200] + fmt.Sprintf("…(%d bytes)…", len(s)-250) + s[len(s)-50:]
	}
	return s
}

// rfcExample is RFC 9309 §5.1, byte for byte (including its "EOF" marker
// line, which is not a directive and must be ignored).
const rfcExample = `User-Agent: *
Disallow: *.gif$
Disallow: /example/
Allow: /publications/

User-Agent: foobot
Disallow:/
Allow:/example/page.html
Allow:/example/allowed.gif

User-Agent: barbot
User-Agent: bazbot
Disallow: /example/page.html

User-Agent: quxbot

EOF
`

func TestRFCExamples(t *testing.T) {
	run(t, []testCase{
		{
			name: "5.1 simple example",
			why:  "RFC 9309 §5.1 and the explanation that follows it",
			body: rfcExample,
			checks: []check{
				// foobot: only its two allowed paths.
				{"foobot", "/example/page.html", true},
				{"foobot", "/example/allowed.gif", true},
				{"foobot", "/example/other.html", false},
				{"foobot", "/", false},
				{"foobot", "/publications/x", false},
				// barbot and bazbot share one group.
				{"barbot", "/example/page.html", false},
				{"bazbot", "/example/page.html", false},
				{"barbot", "/example/other.html", true},
				{"bazbot", "/image.gif", true}, // the * group does not apply to them
				// quxbot's group is empty: everything is allowed.
				{"quxbot", "/example/page.html", true},
				{"quxbot", "/a.gif", true},
				// Everybody else follows *.
				{"otherbot", "/images/photo.gif", false},
				{"otherbot", "/images/photo.gifx", true},
				{"otherbot", "/example/", false},
				{"otherbot", "/example/x.html", false},
				{"otherbot", "/publications/", true},
				{"otherbot", "/", true},
				{"", "/example/x", false}, // no product token: the * group
			},
		},
		{
			name: "5.2 longest match",
			why:  "RFC 9309 §5.2: the more specific (longer) rule wins",
			body: "User-Agent: foobot\nAllow: /example/page/\nDisallow: /example/page/disallowed.gif\n",
			checks: []check{
				{"foobot", "/example/page/", true},
				{"foobot", "/example/page/disallowed.gif", false},
				{"foobot", "/example/page/allowed.gif", true},
				{"foobot", "/example/", true},
			},
		},
		{
			name: "2.2.2 encoding table",
			why:  "RFC 9309 §2.2.2 table (the ツ row as corrected by erratum: U+30C4 = %E3%83%84)",
			body: "User-agent: *\nDisallow: /foo/bar?baz=quz\nDisallow: /foo/bar/ツ\nDisallow: /enc/bar/%E3%83%84\nDisallow: /unres/bar/%62%61%7A\n",
			checks: []check{
				{"a", "/foo/bar?baz=quz", false},
				{"a", "/foo/bar/%E3%83%84", false},
				{"a", "/foo/bar/ツ", false},
				{"a", "/enc/bar/%E3%83%84", false},
				{"a", "/enc/bar/ツ", false},
				{"a", "/unres/bar/baz", false},
				{"a", "/unres/bar/%62az", false},
				{"a", "/foo/bar", true},
				{"a", "/foo/bar/x", true},
			},
		},
		{
			name: "2.2.2 reserved characters keep their meaning",
			why: "RFC 3986 §2.2 and Google's reference tests (robots_test.cc ID_Encoding): a reserved character " +
				"and its percent-encoding are different octets; the RFC 9309 §2.2.2 table row that shows " +
				"https://foo.bar as https%3A%2F%2Ffoo.bar is not applied, as in the reference parser",
			body: "User-agent: FooBot\nDisallow: /\nAllow: /foo/bar?qux=taz&baz=http://foo.bar?tar&par\n",
			checks: []check{
				{"FooBot", "/foo/bar?qux=taz&baz=http://foo.bar?tar&par", true},
				{"FooBot", "/foo/bar?qux=taz&baz=http%3A%2F%2Ffoo.bar%3Ftar%26par", false},
			},
		},
		{
			name: "2.2.3 special characters",
			why:  "RFC 9309 §2.2.3: * is any sequence, $ ends the pattern; %2A and %24 in a rule match a literal * and $ in the URI",
			body: "User-agent: *\nAllow: /this/*/exactly\nAllow: /this/path/exactly$\nDisallow: /this/\nDisallow: /path/file-with-a-%2A.html\nDisallow: /path/foo-%24\n",
			checks: []check{
				{"a", "/this/a/b/exactly", true},
				{"a", "/this/exactly", false}, // "/*/" needs two slashes
				{"a", "/this/path/exactly", true},
				{"a", "/this/path/exactly/", true}, // /this/*/exactly still matches (prefix)
				{"a", "/this/path/exactlyX", true}, // same
				{"a", "/this/other", false},
				{"a", "/path/file-with-a-*.html", false},
				{"a", "/path/file-with-a-%2A.html", false},
				{"a", "/path/file-with-a-%2a.html", false},
				{"a", "/path/file-with-a-x.html", true}, // the encoded star is not a wildcard
				{"a", "/path/foo-$", false},
				{"a", "/path/foo-%24", false},
				{"a", "/path/foo-", true}, // the encoded dollar is not an anchor
			},
		},
		{
			name: "2.2.2 robots.txt is implicitly allowed",
			why:  "RFC 9309 §2.2.2: the /robots.txt URI is implicitly allowed",
			body: "User-agent: *\nDisallow: /\nDisallow: /robots.txt\n",
			checks: []check{
				{"a", "/robots.txt", true},
				{"a", "/robots.txt?x=1", true},
				{"a", "/robots.txtx", false},
				{"a", "/", false},
			},
		},
	})
}

func TestPercentEncoding(t *testing.T) {
	const encoded = "/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/"
	run(t, []testCase{
		{
			name: "raw UTF-8 rule (issue 12)",
			why:  "RFC 9309 §2.2.2: octets outside ASCII are percent-encoded on both sides before comparison",
			body: "User-agent: *\nDisallow: /новости/\n",
			checks: []check{
				{"linkarc", encoded + "x", false},
				{"linkarc", "/новости/x", false},
				{"linkarc", strings.ToLower(encoded) + "x", false}, // %d0 is %D0
				{"linkarc", "/новост", true},
				{"linkarc", "/news/", true},
			},
		},
		{
			name: "encoded rule, raw path",
			why:  "RFC 9309 §2.2.2, the other direction",
			body: "User-agent: *\nDisallow: " + encoded + "\n",
			checks: []check{
				{"linkarc", "/новости/x", false},
				{"linkarc", encoded + "x", false},
			},
		},
		{
			name: "lower-case escapes in the rule",
			why:  "RFC 3986 §2.1: hex digits are case-insensitive; Google normalises them to upper case (jimsmart/grobotstxt v1.0.3 upper-cases with c&0xDF, which turns the digits of %d0 into control bytes)",
			body: "User-agent: *\nDisallow: " + strings.ToLower(encoded) + "\n",
			checks: []check{
				{"linkarc", encoded + "x", false},
				{"linkarc", "/новости/x", false},
			},
		},
		{
			name: "%2F is not /",
			why:  "Google's parser and crawler-commons #195: an encoded slash is a different path; decoding it would make Disallow: /*%2F* block every path with two slashes",
			body: "User-agent: a\nDisallow: /a%2Fb\nDisallow: /c/d\n\nUser-agent: b\nDisallow: /*%2F*\n",
			checks: []check{
				{"a", "/a%2Fb", false},
				{"a", "/a%2fb", false},
				{"a", "/a/b", true},
				{"a", "/c/d", false},
				{"a", "/c%2Fd", true},
				{"b", "/x/y/z", true},
				{"b", "/x%2Fy", false},
				{"b", "/x%2fy", false},
			},
		},
		{
			name: "? and %3F, & and %26, = and %3D",
			why:  "cpython gh-88375/gh-111788 (robotparser decoded reserved characters): they stay distinct",
			body: "User-agent: *\nDisallow: /search?\nDisallow: /a%3Fb\nDisallow: /q?x%3Dy\n",
			checks: []check{
				{"a", "/search?q=1", false},
				{"a", "/search?", false},
				{"a", "/search", true}, // a trailing ? is not dropped from the rule
				{"a", "/search%3Fq", true},
				{"a", "/a?b", true},
				{"a", "/a%3Fb", false},
				{"a", "/q?x=y", true},
				{"a", "/q?x%3dy", false},
			},
		},
		{
			name: "unreserved characters are decoded",
			why:  "RFC 9309 §2.2.2 and RFC 3986 §2.3: %7E is ~, %41 is A",
			body: "User-agent: *\nDisallow: /%7Euser/\nDisallow: /~other/\nDisallow: /%41%42\n",
			checks: []check{
				{"a", "/~user/x", false},
				{"a", "/%7euser/x", false},
				{"a", "/%7Eother/x", false},
				{"a", "/AB", false},
				{"a", "/%41B", false},
				{"a", "/ab", true}, // paths are case-sensitive
			},
		},
		{
			name: "characters a URI cannot carry raw",
			why:  "RFC 3986 §2.1: space, quote, braces… are sent encoded; a rule written raw must still match",
			body: "User-agent: *\nDisallow: /a b\nDisallow: /{x}\nDisallow: /100%\n",
			checks: []check{
				{"a", "/a%20b", false},
				{"a", "/a b", false},
				{"a", "/%7Bx%7D", false},
				{"a", "/100%25", false},
				{"a", "/100", true},
			},
		},
		{
			name: "path case",
			why:  "RFC 9309 §2.2.2 and google/robotstxt-spec-test uri-case-sensitivity: paths compare case-sensitively",
			body: "User-agent: *\nDisallow: /Fish\n",
			checks: []check{
				{"a", "/Fish.asp", false},
				{"a", "/fish", true},
				{"a", "/FISH", true},
			},
		},
	})
}

func TestPrecedence(t *testing.T) {
	run(t, []testCase{
		{
			name: "equal length tie goes to allow (issue 12)",
			why:  "RFC 9309 §2.2.2: if an allow and a disallow rule are equivalent, the allow rule SHOULD be used",
			body: "User-agent: *\nDisallow: /test.html\nAllow: /test.html\n",
			checks: []check{
				{"linkarc", "/test.html", true},
				{"linkarc", "/test.html?x", true},
			},
		},
		{
			name: "tie, allow written first",
			why:  "RFC 9309 §2.2.2: order in the file does not matter",
			body: "User-agent: *\nAllow: /test.html\nDisallow: /test.html\n",
			checks: []check{
				{"linkarc", "/test.html", true},
			},
		},
		{
			name: "tie between wildcard rules",
			why:  "Google's robots.txt documentation, order of precedence: allow: /page and disallow: /*.ph, URL /page.php5 -> allowed (least restrictive)",
			body: "User-agent: *\nAllow: /page\nDisallow: /*.ph\n",
			checks: []check{
				{"a", "/page.php5", true},
			},
		},
		{
			name: "longer disallow wins",
			why:  "Google's documentation: allow: /page and disallow: /*.htm, URL /page.htm -> disallowed",
			body: "User-agent: *\nAllow: /page\nDisallow: /*.htm\n",
			checks: []check{
				{"a", "/page.htm", false},
				{"a", "/page.php", true},
			},
		},
		{
			name: "longer allow wins",
			why:  "Google's documentation: allow: /p and disallow: / -> /page allowed",
			body: "User-agent: *\nDisallow: /\nAllow: /p\n",
			checks: []check{
				{"a", "/page", true},
				{"a", "/other", false},
			},
		},
		{
			name: "allow /$",
			why:  "Google's documentation: allow: /$ and disallow: / -> / allowed, /page.htm disallowed",
			body: "User-agent: *\nAllow: /$\nDisallow: /\n",
			checks: []check{
				{"a", "/", true},
				{"a", "/page.htm", false},
				{"a", "", true}, // an empty path is /
			},
		},
		{
			name: "index.html does not open the directory",
			why:  "deliberate deviation: Google's parser also allows /dir/ when Allow names /dir/index.html; RFC 9309 does not, and it widens",
			body: "User-agent: *\nDisallow: /\nAllow: /news/index.html\n",
			checks: []check{
				{"a", "/news/index.html", true},
				{"a", "/news/", false},
			},
		},
		{
			name: "longest match, not first match",
			why:  "cpython #148951 (robotparser stopped at the first matching line; wordpress.com's robots.txt)",
			body: "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n",
			checks: []check{
				{"a", "/wp-admin/", false},
				{"a", "/wp-admin/admin-ajax.php", true},
				{"a", "/wp-admin/options.php", false},
			},
		},
		{
			name: "later, longer allow under an earlier allow-all",
			why:  "ekalinin/robots.js #18 (first match of Allow: / won over later Disallow lines)",
			body: "User-Agent: *\nAllow: /\nDisallow: /admin/\nDisallow: /redirect/\n",
			checks: []check{
				{"a", "/admin/x", false},
				{"a", "/redirect/", false},
				{"a", "/news", true},
			},
		},
		{
			name: "wildcards",
			why:  "Google's documentation, URL matching based on path values (/*.php, /*.php$, /fish*, /fish/)",
			body: "User-agent: a\nDisallow: /*.php\n\nUser-agent: b\nDisallow: /*.php$\n\nUser-agent: c\nDisallow: /fish*\n\nUser-agent: d\nDisallow: /fish/\n\nUser-agent: e\nDisallow: /*\n\nUser-agent: f\nDisallow: *\n",
			checks: []check{
				{"a", "/index.php", false},
				{"a", "/folder/filename.php?parameters", false},
				{"a", "/folder/any.php.file.html", false},
				{"a", "/filename.php/", false},
				{"a", "/", true},
				{"a", "/windows.PHP", true},
				{"b", "/filename.php", false},
				{"b", "/folder/filename.php", false},
				{"b", "/filename.php?parameters", true},
				{"b", "/filename.php/", true},
				{"b", "/filename.php5", true},
				{"c", "/fish", false},
				{"c", "/fishheads/yummy.html", false},
				{"c", "/fish.php?id=anything", false},
				{"c", "/Fish.asp", true},
				{"c", "/catfish", true},
				{"c", "/?id=fish", true},
				{"c", "/desert/fish", true},
				{"d", "/fish/", false},
				{"d", "/fish/?id=anything", false},
				{"d", "/fish", true},
				{"d", "/fish.html", true},
				{"d", "/animals/fish/", true},
				{"e", "/", false},
				{"e", "/anything", false},
				{"f", "/anything", false},
			},
		},
		{
			name: "$ is an anchor only at the end",
			why:  "RFC 9309 §2.2.3; Google's matcher: a $ elsewhere is a literal character",
			body: "User-agent: *\nDisallow: /tmp$\nDisallow: /a$b\nDisallow: /x$$\n",
			checks: []check{
				{"a", "/tmp", false},
				{"a", "/tmpx", true}, // dondai44423/donsetch #271: /tmp$ must not prefix-match
				{"a", "/tmp/", true},
				{"a", "/a$b", false},
				{"a", "/a%24b", false},
				{"a", "/ab", true},
				{"a", "/x$", false},
				{"a", "/x$y", true},
			},
		},
		{
			name: "query strings",
			why:  "RFC 9309 §2.2.2: rules match the path and query; Google's documentation: Disallow: /*? blocks any URL with a query",
			body: "User-agent: *\nDisallow: /*?\nDisallow: /*sessionid=\n",
			checks: []check{
				{"a", "/search?q=1", false},
				{"a", "/search", true},
				{"a", "/p?x=1&sessionid=2", false},
			},
		},
	})
}

func TestGroups(t *testing.T) {
	run(t, []testCase{
		{
			name: "groups for the same agent are merged",
			why:  "RFC 9309 §2.2.1 and google/robotstxt-spec-test groups.textproto; rules before any user-agent line are ignored",
			body: "allow: /foo/bar/\n\nuser-agent: FooBot\ndisallow: /\nallow: /x/\nuser-agent: BarBot\ndisallow: /\nallow: /y/\n\n\nallow: /w/\nuser-agent: BazBot\n\nuser-agent: FooBot\nallow: /z/\ndisallow: /\n",
			checks: []check{
				{"FooBot", "/x/b", true},
				{"FooBot", "/z/d", true},
				{"FooBot", "/y/c", false},
				{"BarBot", "/y/c", true},
				{"BarBot", "/w/a", true},
				{"BarBot", "/z/d", false},
				{"BazBot", "/z/d", true},
				{"FooBot", "/foo/bar/", false},
				{"BarBot", "/foo/bar/", false},
				{"BazBot", "/foo/bar/", false},
			},
		},
		{
			name: "merged groups tie across groups",
			why:  "RFC 9309 §2.2.1 (merge) with §2.2.2 (tie -> allow)",
			body: "User-agent: a\nDisallow: /p\n\nUser-agent: b\nDisallow: /q\n\nUser-agent: a\nAllow: /p\n",
			checks: []check{
				{"a", "/p", true},
				{"b", "/q", false},
			},
		},
		{
			name: "a specific group replaces *",
			why:  "RFC 9309 §2.2.1; temoto/robotstxt #6 and lightpanda #2997 (an empty Disallow for the agent must win over * Disallow: /)",
			body: "User-agent: Google\nDisallow:\n\nUser-agent: *\nDisallow: /\n",
			checks: []check{
				{"Google", "/", true},
				{"google", "/x", true},
				{"other", "/", false},
			},
		},
		{
			name: "* group after ours is not appended",
			why:  "xroche/httrack #1702: once a group names us, no * rule applies",
			body: "User-agent: httrack\nDisallow: /private/\n\nUser-agent: *\nDisallow: /\n",
			checks: []check{
				{"httrack", "/public", true},
				{"httrack", "/private/x", false},
				{"other", "/public", false},
			},
		},
		{
			name: "* applies only when no group matches",
			why:  "RFC 9309 §2.2.1: a specific group with no matching rule allows, it does not fall back to *",
			body: "User-agent: *\nDisallow: /a\n\nUser-agent: mybot\nDisallow: /b\n",
			checks: []check{
				{"mybot", "/a", true},
				{"mybot", "/b", false},
				{"other", "/a", false},
				{"other", "/b", true},
			},
		},
		{
			name: "consecutive user-agent lines, in any order",
			why:  "RFC 9309 §2.1; rejifald/movar #434 and mykpono #8 (only the last agent of a run got the rules)",
			body: "User-agent: *\nUser-agent: mybot\nDisallow: /private\n\nUser-agent: GPTBot\nUser-agent: CCBot\nUser-agent: ClaudeBot\nDisallow: /\n",
			checks: []check{
				{"mybot", "/private", false},
				{"other", "/private", false},
				{"GPTBot", "/x", false},
				{"CCBot", "/x", false},
				{"ClaudeBot", "/x", false},
				{"mybot", "/x", true},
			},
		},
		{
			name: "blank lines and other lines do not end a run of user-agent lines",
			why:  "Google's reference parser and xroche/httrack #1702; crawler-commons #430: only an allow/disallow line closes the agent list",
			body: "User-agent: a\n\nUser-agent: b\nCrawl-delay: 5\nSitemap: https://example.com/s.xml\nUser-agent: c\nDisallow: /x\n",
			checks: []check{
				{"a", "/x", false},
				{"b", "/x", false},
				{"c", "/x", false},
				{"d", "/x", true},
			},
		},
		{
			name: "agent names are case-insensitive",
			why:  "RFC 9309 §2.2.1: crawlers MUST use case-insensitive matching",
			body: "User-agent: FOOBOT\nDisallow: /f\n\nuser-agent: barbot\nDisallow: /b\n",
			checks: []check{
				{"foobot", "/f", false},
				{"FooBot", "/f", false},
				{"BARBOT", "/b", false},
				{"BarBot", "/f", true},
			},
		},
		{
			name: "product token only",
			why:  "RFC 9309 §2.2.1 product token [a-zA-Z_-]; Google's ExtractUserAgent: Googlebot/2.1 and googlebot* are googlebot, and the value ends at the first space (jimsmart/grobotstxt keeps RFC 7231 token characters, so qux* stayed qux*)",
			body: "User-agent: FooBot/1.2\nDisallow: /f\n\nUser-agent: Bar Baz\nDisallow: /b\n\nUser-agent: qux*\nDisallow: /q\n\nUser-agent: Mozilla/5.0 (compatible; Butterfly/1.0)\nDisallow: /m\n",
			checks: []check{
				{"FooBot", "/f", false},
				{"foobot", "/f", false},
				{"FooBot/2.0", "/f", false}, // the caller's own version is dropped too
				{"Bar", "/b", false},
				{"Bar Baz", "/b", false}, // the caller's value is cut the same way
				{"Baz", "/b", true},
				{"qux", "/q", false},
				{"Mozilla", "/m", false}, // crawler-commons #192: the line names Mozilla, not Butterfly
				{"Butterfly", "/m", true},
			},
		},
		{
			name: "no prefix matching of agent names",
			why:  "RFC 9309 §2.2.1 and Google's reference parser: the whole token must be equal",
			body: "User-agent: Foo\nDisallow: /\n\nUser-agent: googlebot\nDisallow: /g\n",
			checks: []check{
				{"FooBot", "/x", true},
				{"Fo", "/x", true},
				{"googlebot-news", "/g", true}, // Google's documentation: -news has its own token
			},
		},
		{
			name: "* with more text",
			why:  "Google's reference parser: '*' followed by whitespace is still the global group; '*bot' is not",
			body: "User-agent: * # everybody\nDisallow: /a\n\nUser-agent: *bot\nDisallow: /b\n",
			checks: []check{
				{"x", "/a", false},
				{"x", "/b", true},
				{"bot", "/b", true},
			},
		},
		{
			name: "empty user-agent value",
			why:  "webignition/robots-txt-file #14: an empty User-agent line must not break the file",
			body: "User-agent: baiduspider\nDisallow: /\n\nUser-agent:\n\nUser-agent: *\nAllow: /blah/\nDisallow: /secret/\n",
			checks: []check{
				{"x", "/secret/1", false},
				{"x", "/blah/", true},
				{"baiduspider", "/blah/", false},
			},
		},
		{
			name: "no groups at all",
			why:  "RFC 9309 §2.2.1: if no group matches and there is no * group, no rules apply",
			body: "User-agent: other\nDisallow: /\n",
			checks: []check{
				{"mine", "/x", true},
			},
		},
	})
}

func TestSyntax(t *testing.T) {
	const rules = "User-agent: *\nDisallow: /private\n"
	run(t, []testCase{
		{
			name:   "UTF-8 BOM",
			why:    "Google's reference parser skips a BOM; scrapy #6195, seomoz/rep-cpp #13, BUbiNG #17: the first line was lost",
			body:   "\xEF\xBB\xBFUser-agent: *\nDisallow: /\n",
			checks: []check{{"a", "/x", false}},
		},
		{
			name:   "partial BOM",
			why:    "Google's reference parser (robots_test.cc ID_LinesWithBOM): a truncated BOM is skipped too",
			body:   "\xEF\xBBUser-agent: *\nDisallow: /\n",
			checks: []check{{"a", "/x", false}},
		},
		{
			name:   "broken BOM",
			why:    "Google's reference parser: bytes that are not a BOM prefix are part of the first line, which is then no directive",
			body:   "\xEF\x11\xBFUser-agent: *\nDisallow: /\n",
			checks: []check{{"a", "/x", true}},
		},
		{
			name:   "BOM only at the start",
			why:    "Google's reference parser: a BOM later in the file is not skipped",
			body:   "User-agent: *\n\xEF\xBB\xBFDisallow: /a\nDisallow: /b\n",
			checks: []check{{"a", "/a", true}, {"a", "/b", false}},
		},
		{
			name:   "CRLF",
			why:    "RFC 9309 §2.2 (EOL = CR / LF / CRLF); google/robotstxt-spec-test different-line-endings",
			body:   "User-agent: *\r\nDisallow: /private\r\nAllow: /private/ok\r\n",
			checks: []check{{"a", "/private/x", false}, {"a", "/private/ok", true}, {"a", "/public", true}},
		},
		{
			name:   "CR only",
			why:    "RFC 9309 §2.2 (EOL = CR); old Mac files",
			body:   "User-agent: *\rDisallow: /private\rAllow: /private/ok\r",
			checks: []check{{"a", "/private/x", false}, {"a", "/private/ok", true}},
		},
		{
			name:   "mixed line ends",
			why:    "RFC 9309 §2.2",
			body:   "User-agent: a\r\nDisallow: /a\rUser-agent: b\nDisallow: /b\n\rUser-agent: c\r\rDisallow: /c",
			checks: []check{{"a", "/a", false}, {"b", "/b", false}, {"c", "/c", false}, {"a", "/b", true}},
		},
		{
			name:   "no final newline",
			why:    "RFC 9309 §2.2: the last line needs no EOL",
			body:   "User-agent: *\nDisallow: /private",
			checks: []check{{"a", "/private", false}},
		},
		{
			name: "comments",
			why:  "RFC 9309 §2.2: # starts a comment anywhere on a line",
			body: "# Disallow: /\nUser-agent: * # all\nDisallow: /a # not /b\nDisallow: /c#d\n#Disallow: /e\n",
			checks: []check{
				{"x", "/a", false},
				{"x", "/b", true},
				{"x", "/c", false},
				{"x", "/cx", false}, // the rule is /c
				{"x", "/e", true},
			},
		},
		{
			name: "whitespace",
			why:  "RFC 9309 §2.2 (optional whitespace around the colon and the value)",
			body: "  User-agent :\t* \n\tDisallow   :   /a  \nDisallow:/b\n",
			checks: []check{
				{"x", "/a", false},
				{"x", "/b", false},
				{"x", "/c", true},
			},
		},
		{
			name: "directive names are case-insensitive",
			why:  "RFC 9309 §2.2 (keys are case-insensitive); seomoz/reppy #50 (User-Agent was not recognised)",
			body: "USER-AGENT: *\nDISALLOW: /a\ndisallow: /b\nDisAllow: /c\nALLOW: /a/ok\n",
			checks: []check{
				{"x", "/a", false},
				{"x", "/b", false},
				{"x", "/c", false},
				{"x", "/a/ok", true},
			},
		},
		{
			name: "lines without a colon",
			why:  "Google's reference parser (accepted-mistakes): whitespace stands in for a missing colon when a line has exactly two words",
			body: "User-agent foobot\nDisallow /a\nDisallow /b /c\nAllow\n",
			checks: []check{
				{"foobot", "/a", false},
				{"foobot", "/b", true},
				{"foobot", "/c", true},
			},
		},
		{
			name: "common misspellings",
			why:  "Google's reference parser (accepted-mistakes): disalow, dissallow, useragent, user agent…",
			body: "useragent: a\ndissallow: /1\ndisalow: /2\ndiaslow: /3\n\nuser agent: b\ndisallaw: /4\n",
			checks: []check{
				{"a", "/1", false},
				{"a", "/2", false},
				{"a", "/3", false},
				{"b", "/4", false},
			},
		},
		{
			name: "unknown directives are ignored",
			why:  "RFC 9309 §2.2.4 (other records MAY be interpreted) and §2.3.1.5 (use the parseable rules); noindex is not disallow",
			body: "User-agent: *\nCrawl-delay: 10\nNoindex: /\nHost: example.com\nClean-param: a /\nRequest-rate: 1/10\nFoo: bar\nSitemap: https://example.com/s.xml\nDisallow: /a\n",
			checks: []check{
				{"x", "/", true},
				{"x", "/b", true},
				{"x", "/a", false},
			},
		},
		{
			name: "empty disallow allows everything",
			why:  "RFC 9309 §2.2.2 (an empty pattern matches nothing) and Google's documentation",
			body: "User-agent: *\nDisallow:\nDisallow: \t\n",
			checks: []check{
				{"x", "/", true},
				{"x", "/anything", true},
			},
		},
		{
			name: "empty allow does not cancel a disallow",
			why:  "RFC 9309 §2.2.2",
			body: "User-agent: *\nAllow:\nDisallow: /a\n",
			checks: []check{
				{"x", "/a", false},
			},
		},
		{
			name:   "empty file",
			why:    "RFC 9309 §2.2.1: no groups, no rules",
			body:   "",
			checks: []check{{"x", "/", true}},
		},
		{
			name:   "whitespace only",
			why:    "RFC 9309 §2.2.1",
			body:   "\n\n \t\r\n",
			checks: []check{{"x", "/", true}},
		},
		{
			name:   "an HTML page served as robots.txt",
			why:    "RFC 9309 §2.3.1.5: only parseable rules count; soft-404 pages are common",
			body:   "<!DOCTYPE html>\n<html><head><title>Not found</title></head>\n<body>User-agent: * Disallow: /</body></html>\n",
			checks: []check{{"x", "/", true}},
		},
		{
			name:   "control characters in a rule",
			why:    "RFC 9309 §2.2.2: octets a URI cannot carry raw are compared percent-encoded",
			body:   "User-agent: *\nDisallow: /a\x01b\n",
			checks: []check{{"x", "/a%01b", false}, {"x", "/ab", true}},
		},
		{
			name:   "NUL bytes do not end parsing",
			why:    "C-string parsers stop at NUL; later lines must still count",
			body:   "User-agent: *\nFoo: \x00\x00\nDisallow: /private\n",
			checks: []check{{"x", "/private", false}},
		},
		{
			name:   "rules at the end of a long file",
			why:    "RFC 9309 §2.5: everything within the parsing limit is read",
			body:   strings.Repeat("# padding comment line\n", 10000) + rules,
			checks: []check{{"x", "/private", false}},
		},
	})
}

func TestLimits(t *testing.T) {
	longPath := "/" + strings.Repeat("a", 20000)
	stars := strings.Repeat("*", 2000)
	stairs := "/" + strings.Repeat("*a", 30) + "*b" // exponential for a backtracking matcher
	run(t, []testCase{
		{
			name: "an over-long disallow line is cut, still disallowing",
			why:  "Google's reference parser cuts lines at 2083*8 bytes; cutting a Disallow only widens what it blocks",
			body: "User-agent: *\nDisallow: " + longPath + "\n",
			checks: []check{
				{"x", longPath, false},
				{"x", longPath[:MaxLineBytes], false},
				{"x", "/aaa", true},
			},
		},
		{
			name: "an over-long allow line is dropped",
			why:  "a cut Allow would allow more than the site wrote, so it is ignored instead",
			body: "User-agent: *\nDisallow: /\nAllow: " + longPath + "\n",
			checks: []check{
				{"x", longPath, false},
				{"x", "/aaa", false},
			},
		},
		{
			name: "the line after an over-long line is read",
			why:  "Google's reference parser: only the excess of a line is ignored",
			body: "User-agent: *\n# " + strings.Repeat("x", 100000) + "\nDisallow: /after\n",
			checks: []check{
				{"x", "/after", false},
			},
		},
		{
			name: "many stars",
			why:  "crawler4j #425 and samclarke/robots-parser #12 (ReDoS): runs of * are one wildcard, matching stays linear",
			body: "User-agent: *\nDisallow: /" + stars + "/\nAllow: " + stars + ".js" + stars + "\nDisallow: " + stairs + "\n",
			checks: []check{
				{"x", "/asdjdsfsdfjkhejrhwjerhjkfdhksdjfhksjdfhjksdfhjksfdhjksdfasdasdd/js/jquery/jquery-migrate.min.js", true}, // the allow is longer
				{"x", "/a/b", false},
				{"x", "/nodir", true},
				{"x", "/" + strings.Repeat("a", 5000), true},
				{"x", "/" + strings.Repeat("a", 5000) + "b", false},
			},
		},
		{
			name: "a very long path",
			why:  "paths are attacker-chosen too (links in feeds)",
			body: "User-agent: *\nDisallow: /*x$\nDisallow: /*y*z\n",
			checks: []check{
				{"x", longPath + "x", false},
				{"x", longPath, true},
				{"x", longPath + "y" + longPath + "z", false},
				{"x", longPath + "z" + longPath + "y", true},
			},
		},
	})
}

// TestParsingLimit: RFC 9309 §2.5 — at least 500 KiB are parsed; what lies
// beyond is ignored, and so is the line the limit cuts (a cut Allow would
// widen, a cut Disallow would block what the site did not name).
func TestParsingLimit(t *testing.T) {
	head := "User-agent: *\nDisallow: /in\n"
	pad := func(n int) string { // comment lines filling n bytes exactly
		var b strings.Builder
		for rem := n; rem > 0; rem = n - b.Len() {
			if rem < 2 {
				b.WriteString("\n")
				continue
			}
			b.WriteString("#" + strings.Repeat("p", min(80, rem-2)) + "\n")
		}
		return b.String()
	}
	last := "Disallow: /last\n"
	body := head + pad(MaxBytes-len(head)-len(last)) + last
	if len(body) != MaxBytes {
		t.Fatalf("fixture is %d bytes, want %d", len(body), MaxBytes)
	}
	tests := []struct {
		name   string
		body   string
		checks []check
	}{
		{"exactly the limit", body, []check{{"x", "/in", false}, {"x", "/last", false}}},
		{"limit, then more rules", body + "Disallow: /beyond\n", []check{{"x", "/last", false}, {"x", "/beyond", true}}},
		// The line the limit cuts: a cut Allow is dropped (it would allow
		// more than the site wrote), a cut Disallow keeps what was read.
		{"an allow cut by the limit", body[:MaxBytes-len(last)] + "Allow: /in/public-long-name\n", []check{{"x", "/in/pub", false}, {"x", "/in/public-long-name", false}}},
		{"a disallow cut by the limit", body[:MaxBytes-len(last)] + "Disallow: /xyz" + strings.Repeat("w", 40), []check{{"x", "/xyzww", false}, {"x", "/xyz", true}}},
		// A line whose end falls just past the limit is complete.
		{"LF just past the limit", body[:MaxBytes-len(last)] + "Disallow: /lastx\nDisallow: /beyond\n", []check{{"x", "/lastx", false}, {"x", "/last", true}, {"x", "/beyond", true}}},
		{"CR just past the limit", body[:MaxBytes-len(last)] + "Allow: /in/publi\rDisallow: /beyond\r", []check{{"x", "/in/publi", true}, {"x", "/beyond", true}}},
		{"10 MiB", body + strings.Repeat("Disallow: /more\n", 10<<20/16), []check{{"x", "/last", false}, {"x", "/more", true}}},
	}
	for _, tt := range tests {
		r := Parse([]byte(tt.body))
		for _, c := range tt.checks {
			if got := r.Allowed(c.agent, c.path); got != c.want {
				t.Errorf("%s: Allowed(%q) = %v, want %v", tt.name, short(c.path), got, c.want)
			}
		}
	}
}

// TestGarbage: binary and random input never panics and never invents a
// rule; the parser keeps going past garbage to the rules after it.
func TestGarbage(t *testing.T) {
	var bin bytes.Buffer
	x := uint32(2463534242)
	for bin.Len() < 200<<10 {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b := byte(x)
		if b == '\n' || b == '\r' || b == ':' {
			b = 0 // no line ends or separators: garbage cannot form a directive
		}
		bin.WriteByte(b)
	}
	inputs := map[string][]byte{
		"random bytes":       bin.Bytes(),
		"gzip magic":         []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"),
		"NULs":               bytes.Repeat([]byte{0}, 4096),
		"invalid UTF-8":      []byte("User-agent: \xff\xfe*\nDisallow: /\xc3\x28\n"),
		"UTF-16LE with BOM":  []byte("\xff\xfeU\x00s\x00e\x00r\x00-\x00a\x00g\x00e\x00n\x00t\x00:\x00 \x00*\x00\n\x00"),
		"only colons":        bytes.Repeat([]byte(":"), 10000),
		"only line ends":     bytes.Repeat([]byte("\r\n\r\r\n\n"), 10000),
		"only stars":         []byte("User-agent: zz\nDisallow: " + strings.Repeat("*", 16000) + "\n"),
		"only percent signs": []byte("User-agent: zz\nDisallow: " + strings.Repeat("%", 16000) + "\n"),
	}
	for name, in := range inputs {
		r := Parse(in)
		for _, p := range []string{"/", "/x", "/" + string(in[:min(len(in), 64)])} {
			if !r.Allowed("linkarc", p) {
				t.Errorf("%s: Allowed(%q) = false; garbage made a rule", name, p)
			}
		}
		// Rules after the garbage still count.
		r = Parse(append(append(append([]byte{}, in...), '\n'), rulesAfterGarbage...))
		if r.Allowed("linkarc", "/private") {
			t.Errorf("%s: the rules after the garbage were lost", name)
		}
	}
}

var rulesAfterGarbage = []byte("User-agent: *\nDisallow: /private\n")

func TestForStatus(t *testing.T) {
	const disallowAll = "User-agent: *\nDisallow: /\n"
	const allowAll = "User-agent: *\nAllow: /\n"
	html := "<html><body><h1>Service Unavailable</h1></body></html>"
	tests := []struct {
		status int
		body   string
		want   Verdict
		path   string
		allow  bool
		why    string
	}{
		{200, disallowAll, UseRules, "/x", false, "§2.3.1.1 2xx: parse"},
		{200, allowAll, UseRules, "/x", true, "§2.3.1.1"},
		{203, disallowAll, UseRules, "/x", false, "§2.3.1.1 any 2xx"},
		{204, "", UseRules, "/x", true, "§2.3.1.1 an empty 2xx body has no rules"},
		{404, disallowAll, AllowAll, "/x", true, "§2.3.1.3 the body of a 4xx is not robots.txt"},
		{410, "", AllowAll, "/x", true, "§2.3.1.3"},
		{400, "", AllowAll, "/x", true, "§2.3.1.3"},
		{401, disallowAll, AllowAll, "/x", true, "§2.3.1.3 401 and 403 too, as Google does"},
		{403, disallowAll, AllowAll, "/x", true, "§2.3.1.3"},
		{429, allowAll, DisallowAll, "/x", false, "Google's documentation: 429 is handled like a server error"},
		{500, allowAll, DisallowAll, "/x", false, "§2.3.1.4; crawlee-python #2065: the 5xx body is never parsed"},
		{503, html, DisallowAll, "/x", false, "§2.3.1.4 an HTML error page does not allow everything"},
		{599, "", DisallowAll, "/x", false, "§2.3.1.4"},
		{301, disallowAll, AllowAll, "/x", true, "§2.3.1.2: a redirect reaching here exceeded MaxRedirects: unavailable"},
		{308, "", AllowAll, "/x", true, "§2.3.1.2"},
		{100, "", DisallowAll, "/x", false, "not a final status: treated as unreachable"},
		{0, "", DisallowAll, "/x", false, "no status: unreachable"},
		{600, allowAll, DisallowAll, "/x", false, "not an HTTP status: unreachable"},
		{500, "", DisallowAll, "/robots.txt", true, "§2.2.2: /robots.txt itself stays allowed"},
	}
	for _, tt := range tests {
		if got := ForStatus(tt.status); got != tt.want {
			t.Errorf("ForStatus(%d) = %v, want %v (%s)", tt.status, got, tt.want, tt.why)
		}
		r := From(tt.status, []byte(tt.body))
		if r.Verdict() != tt.want {
			t.Errorf("From(%d).Verdict() = %v, want %v", tt.status, r.Verdict(), tt.want)
		}
		if got := r.Allowed("linkarc", tt.path); got != tt.allow {
			t.Errorf("From(%d, %q).Allowed(%q) = %v, want %v (%s)", tt.status, tt.body, tt.path, got, tt.allow, tt.why)
		}
	}
	u := Unreachable()
	if u.Verdict() != DisallowAll || u.Allowed("linkarc", "/") || !u.Allowed("linkarc", "/robots.txt") {
		t.Errorf("Unreachable(): verdict %v, want DisallowAll and only /robots.txt allowed (§2.3.1.4)", u.Verdict())
	}
	if MaxRedirects != 5 {
		t.Errorf("MaxRedirects = %d, want 5 (RFC 9309 §2.3.1.2)", MaxRedirects)
	}
	if MaxBytes < 500<<10 {
		t.Errorf("MaxBytes = %d, want at least 500 KiB (RFC 9309 §2.5)", MaxBytes)
	}
	for v, s := range map[Verdict]string{UseRules: "use rules", AllowAll: "allow all", DisallowAll: "disallow all", Verdict(9): "Verdict(9)"} {
		if v.String() != s {
			t.Errorf("Verdict(%d).String() = %q, want %q", v, v.String(), s)
		}
	}
}

func TestProductToken(t *testing.T) {
	tests := []struct{ ua, want string }{
		{"linkarc (+https://github.com/linkarc/linkarc; news link archiver)", "linkarc"},
		{"linkarc/1.4.0 (+https://github.com/linkarc/linkarc)", "linkarc"},
		{"Mozilla/5.0 (compatible; ExampleBot/0.1; +https://www.example.com/bot.html)", "ExampleBot"}, // RFC 9309 §2.2.1
		{"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/41.0.2272.96 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Googlebot"},
		{"Mozilla/5.0 (compatible;bingbot/2.0)", "bingbot"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36", "Mozilla"},
		{"Lightpanda/1.0", "Lightpanda"}, // lightpanda #2997
		{"  Foo_Bar-baz/1", "Foo_Bar-baz"},
		{"ia_archiver2", "ia_archiver"},
		{"123bot", ""},
		{"", ""},
		{"*", ""},
		{"Здравствуйте/1.0", ""},
	}
	for _, tt := range tests {
		if got := ProductToken(tt.ua); got != tt.want {
			t.Errorf("ProductToken(%q) = %q, want %q", tt.ua, got, tt.want)
		}
	}
}

// TestAllowedURL: the fetcher asks with the request URL; the path it
// matches is the escaped path and the query, never the host or fragment.
func TestAllowedURL(t *testing.T) {
	r := Parse([]byte("User-agent: *\nDisallow: /новости/\nDisallow: /a%2Fb\nDisallow: /*?print\nDisallow: /frag\n"))
	tests := []struct {
		raw  string
		want bool
	}{
		{"https://example.com/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/x", false},
		{"https://example.com/новости/x", false},
		{"https://example.com/a%2Fb", false},
		{"https://example.com/a/b", true},
		{"https://example.com/page?print=1", false},
		{"https://example.com/page#frag", true},
		{"https://example.com", true},
		{"https://example.com/robots.txt", true},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AllowedURL("linkarc", u); got != tt.want {
			t.Errorf("AllowedURL(%s) = %v, want %v", tt.raw, got, tt.want)
		}
	}
	if !r.AllowedURL("linkarc", nil) {
		t.Error("AllowedURL(nil) = false")
	}
}

func TestNilRules(t *testing.T) {
	var r *Rules
	if !r.Allowed("x", "/") || r.Verdict() != AllowAll {
		t.Error("a nil *Rules must allow everything")
	}
}

func ExampleRules_Allowed() {
	r := From(200, []byte("User-agent: *\nDisallow: /новости/\nDisallow: /test.html\nAllow: /test.html\n"))
	agent := ProductToken("linkarc/1.0 (+https://github.com/linkarc/linkarc)")
	fmt.Println(r.Allowed(agent, "/%D0%BD%D0%BE%D0%B2%D0%BE%D1%81%D1%82%D0%B8/today"))
	fmt.Println(r.Allowed(agent, "/test.html"))
	fmt.Println(From(503, nil).Allowed(agent, "/"))
	// Output:
	// false
	// true
	// false
}
