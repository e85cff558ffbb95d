package requisite

import (
	"github.com/linkarc/linkarc/internal/srcset"
)

// Choose returns the URL of the srcset candidate the reference display
// (srcset.Desktop: 1280 CSS pixels wide at one device pixel per CSS pixel)
// would load, given the sizes attribute ("" means 100vw) of an img that is
// not lazy, or "" when srcset has none. The choice is internal/srcset's,
// which the self-contained page (archive/singlepage) asks too, so the
// capture fetches the image the page shows.
func Choose(set, sizes string) string {
	return srcset.Choose(srcset.Parse(set), sizes, srcset.Image{}, "", srcset.Desktop)
}

// MediaMatches evaluates a media query list for the reference display, as
// internal/srcset does.
func MediaMatches(q string) bool { return srcset.MediaMatches(q, srcset.Desktop) }
