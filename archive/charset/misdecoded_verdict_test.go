package charset

import (
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
)

// Texts in languages linkarc archives, correctly decoded.
var wellDecoded = map[string]string{
	"en":     "The council approved the harbour plan on Tuesday – after a long debate, it said “yes”.",
	"fr":     "Le conseil municipal a approuvé mardi le projet du port, après un débat où les habitants, les commerçants et les dockers se sont exprimés. « C’est une étape décisive », a déclaré la maire à l’issue de la séance.",
	"de":     "Der Stadtrat hat am Dienstag den umstrittenen Hafenplan gebilligt. Anwohner, Ladenbesitzer und Hafenarbeiter äußerten sich während der Sitzung für und gegen das Vorhaben, das Wohnungen und einen Fähranleger verspricht.",
	"ru":     "Городской совет во вторник одобрил план реконструкции порта. Всё решилось после долгих споров: жители, владельцы магазинов и докеры высказались за и против проекта, обещающего новое жильё и паромный терминал.",
	"pl":     "Rada miasta zatwierdziła we wtorek plan przebudowy portu. Mieszkańcy, właściciele sklepów i dokerzy wypowiadali się za i przeciw projektowi, który obiecuje nowe mieszkania, terminal promowy i park publiczny.",
	"el":     "Το δημοτικό συμβούλιο ενέκρινε την Τρίτη το σχέδιο ανάπλασης του λιμανιού, μετά από μακρά συζήτηση με κατοίκους και καταστηματάρχες.",
	"is":     "Borgarstjórn samþykkti á þriðjudag áætlun um endurbætur á höfninni. Íbúar, verslunareigendur og hafnarverkamenn tóku þátt í umræðunni.",
	"cs":     "Městská rada v úterý schválila plán přestavby přístavu. Obyvatelé, majitelé obchodů a přístavní dělníci se vyjádřili pro i proti projektu.",
	"ja":     "市議会は火曜日、港の再開発計画を承認した。住民や商店主、港湾労働者が賛否を述べた。",
	"quoted": "A common sign of a broken page is text like Ã© where é belongs; this article explains it.",
}

// misdecode turns text into what a reader sees when its UTF-8 bytes are
// decoded as enc.
func misdecode(t *testing.T, text string, enc encoding.Encoding) string {
	t.Helper()
	out, err := enc.NewDecoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// reencode turns text into what a reader sees when it is encoded in from
// and the bytes decoded as to.
func reencode(t *testing.T, text string, from, to encoding.Encoding) string {
	t.Helper()
	b, err := from.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	return misdecode(t, b, to)
}

func TestLooksMisdecodedVerdictCases(t *testing.T) {
	for lang, text := range wellDecoded {
		if LooksMisdecoded(text) {
			t.Errorf("%s, well decoded: called misdecoded: %q", lang, text)
		}
	}
	garbled := map[string]string{
		"fr UTF-8 as windows-1252":      misdecode(t, wellDecoded["fr"], charmap.Windows1252),
		"de UTF-8 as windows-1252":      misdecode(t, wellDecoded["de"], charmap.Windows1252),
		"ru UTF-8 as windows-1252":      misdecode(t, wellDecoded["ru"], charmap.Windows1252),
		"ru UTF-8 as windows-1251":      misdecode(t, wellDecoded["ru"], charmap.Windows1251),
		"pl UTF-8 as windows-1250":      misdecode(t, wellDecoded["pl"], charmap.Windows1250),
		"cs UTF-8 as iso-8859-2":        misdecode(t, wellDecoded["cs"], charmap.ISO8859_2),
		"el UTF-8 as windows-1252":      misdecode(t, wellDecoded["el"], charmap.Windows1252),
		"ru windows-1251 as 1252":       reencode(t, wellDecoded["ru"], charmap.Windows1251, charmap.Windows1252),
		"el windows-1253 as 1252":       reencode(t, wellDecoded["el"], charmap.Windows1253, charmap.Windows1252),
		"ru windows-1251 read as UTF-8": strings.ToValidUTF8(mustEncodeString(t, wellDecoded["ru"], charmap.Windows1251), "\uFFFD"),
		"ja Shift_JIS read as UTF-8":    strings.Repeat("\uFFFD\uFFFDs\uFFFD ", 12),
	}
	for name, text := range garbled {
		if !LooksMisdecoded(text) {
			t.Errorf("%s: not called misdecoded: %q", name, text)
		}
	}
	// A stray replacement character or two (a broken emoji) is not it.
	if LooksMisdecoded(wellDecoded["fr"] + " \uFFFD " + wellDecoded["de"] + "\uFFFD") {
		t.Error("two replacement characters in a long text called misdecoded")
	}
}

func mustEncodeString(t *testing.T, text string, enc encoding.Encoding) string {
	t.Helper()
	b, err := enc.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
