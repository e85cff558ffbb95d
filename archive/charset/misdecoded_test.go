package charset

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"

	"github.com/linkarc/linkarc/archive/charset/charsettest"
)

// misread decodes the bytes of s (UTF-8) as e: what a page looks like
// when decoded with the wrong encoding.
func misread(t *testing.T, s string, e encoding.Encoding) string {
	t.Helper()
	out, err := e.NewDecoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// legacyAs encodes s in from and decodes the bytes as to: a legacy page
// read with another legacy encoding.
func legacyAs(t *testing.T, s string, from, to encoding.Encoding) string {
	t.Helper()
	b, err := from.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return misread(t, b, to)
}

func TestLooksMisdecoded(t *testing.T) {
	const (
		french    = "Le conseil municipal a approuvé mercredi le nouveau plan de développement des transports publics. « C’est une étape décisive », a déclaré la maire, qui évoque une mise en œuvre dès l’été."
		english   = "The council’s plan was approved on Tuesday — “a decisive step,” the mayor said, after a two-hour debate in which residents spoke for and against it."
		russian   = "Во вторник депутаты городского совета большинством голосов одобрили программу обновления общественного транспорта на ближайшие пять лет."
		ukrainian = "Він сказав, що Рівне отримає нові автобуси. Від міста вимагають звіту. Вона погодилася. Він пішов. Рішення ухвалили у вівторок."
		german    = "Der Stadtrat hat am Dienstag den neuen Verkehrsplan beschlossen. „Das macht Spaß“, sagte die Bürgermeisterin über die Straßenbahn."
		polish    = "Rada miasta zatwierdziła w środę nowy plan rozwoju transportu publicznego. Żółć, gęślą jaźń."
		greek     = "Το δημοτικό συμβούλιο ενέκρινε το νέο σχέδιο για τις δημόσιες συγκοινωνίες."
		icelandic = "Borgarstjórn samþykkti í gær nýja áætlun um almenningssamgöngur. Þetta er mikilvægt skref, sagði borgarstjórinn."
		hungarian = "A közgyűlés kedden elfogadta az új közlekedési tervet. Ez döntő lépés, mondta a polgármester, és ígéretet tett a gyors végrehajtásra."
		portugues = "O CONSELHO NÃO APROVOU A PROPOSTA. A decisão foi adiada para setembro, disse o presidente da câmara."
	)
	tests := []struct {
		name string
		text string
		want bool
	}{
		// Right.
		{"french", french, false},
		{"english with curly quotes", english, false},
		{"russian", russian, false},
		{"ukrainian, words starting Ві and Рі", ukrainian, false},
		{"german with „Spaß“", german, false},
		{"polish", polish, false},
		{"greek", greek, false},
		{"icelandic", icelandic, false},
		{"hungarian", hungarian, false},
		{"portuguese capitals with Ã", portugues, false},
		{"empty", "", false},
		{"one stray replacement in a long text", strings.Repeat(russian, 3) + "\uFFFD", false},

		// Wrong: UTF-8 read as a legacy encoding.
		{"french UTF-8 read as windows-1252 (Ã©)", misread(t, french, charmap.Windows1252), true},
		{"english UTF-8 read as windows-1252 (â€™)", misread(t, english, charmap.Windows1252), true},
		{"russian UTF-8 read as windows-1252 (Ð°)", misread(t, russian, charmap.Windows1252), true},
		{"russian UTF-8 read as windows-1251 (Р°)", misread(t, russian, charmap.Windows1251), true},
		{"russian UTF-8 read as ISO-8859-1 (C1 controls)", misread(t, russian, charmap.ISO8859_1), true},
		{"polish UTF-8 read as windows-1252", misread(t, polish, charmap.Windows1252), true},
		// Wrong: a legacy page read with another legacy encoding.
		{"russian windows-1251 read as windows-1252 (Ïðèâåò)", legacyAs(t, russian, charmap.Windows1251, charmap.Windows1252), true},
		{"greek windows-1253 read as windows-1252", legacyAs(t, greek, charmap.Windows1253, charmap.Windows1252), true},
		// Wrong: bytes no decoder placed.
		{"legacy bytes read as UTF-8 (U+FFFD)", strings.ToValidUTF8(string(mustEncode(t, charmap.Windows1251, russian)), "\uFFFD"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := MeasureMisdecoding(tt.text)
			if got := LooksMisdecoded(tt.text); got != tt.want {
				t.Errorf("LooksMisdecoded = %v, want %v (%+v: %s)\n%s", got, tt.want, m, m, tt.text)
			}
			if m.Bad() != tt.want || (tt.want && m.String() == "no sign of misdecoding") {
				t.Errorf("Misdecoding %+v says %q", m, m)
			}
		})
	}
}

func mustEncode(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().String(s)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(b)
}

// TestDecodedCasesAreNotMisdecoded: every page of the decoding table, once
// decoded, passes the check, and its mis-decoding as windows-1252 does not
// (for pages beyond ASCII).
func TestDecodedCasesAreNotMisdecoded(t *testing.T) {
	for _, tt := range charsettest.Cases(t) {
		got, _ := ToUTF8(tt.Raw, tt.ContentType)
		if m := MeasureMisdecoding(string(got)); m.Bad() {
			t.Errorf("%s: decoded page looks misdecoded: %s", tt.Name, m)
		}
		// The check is for extracted text: leave out the long inline
		// style and script some pages carry.
		text := strings.ReplaceAll(string(tt.Want), charsettest.LongHead, "")
		if hasMultibyteUTF8([]byte(text)) && !LooksMisdecoded(misread(t, text, charmap.Windows1252)) {
			t.Errorf("%s: its UTF-8 read as windows-1252 is not flagged", tt.Name)
		}
	}
}
