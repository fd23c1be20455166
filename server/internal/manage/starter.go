package manage

import (
	"strings"

	"github.com/samtycke/samtycke/server/internal/siteconfig"
)

// starterDescriptions words a new site's banner description from its own
// categories: it names the purposes the site asks consent for (the
// categories' titles) and no others, and says there are none when the
// site only has necessary storage. Languages without a wording keep the
// description they have.
func starterDescriptions(c *siteconfig.Config) {
	for _, lang := range c.Languages {
		t, ok := c.Texts[lang]
		w, known := starterWords[lang]
		if !ok || !known {
			continue
		}
		var purposes []string
		for _, cat := range c.Categories {
			if cat.ID != siteconfig.NecessaryID && cat.Title[lang] != "" {
				purposes = append(purposes, strings.ToLower(cat.Title[lang]))
			}
		}
		if len(purposes) == 0 {
			t.Desc = w.onlyNecessary
		} else {
			t.Desc = w.necessary + " " + strings.Replace(w.withConsent, "%s", list(purposes, w.and), 1) + " " + w.withdraw
		}
		c.Texts[lang] = t
	}
}

type starterWording struct{ onlyNecessary, necessary, withConsent, withdraw, and string }

var starterWords = map[string]starterWording{
	"sv": {
		onlyNecessary: "Vi använder bara cookies och liknande tekniker som är nödvändiga för att webbplatsen ska fungera. Du kan läsa mer om dem via knappen Cookieinställningar längst ned på varje sida.",
		necessary:     "Vi använder cookies och liknande tekniker som är nödvändiga för att webbplatsen ska fungera.",
		withConsent:   "Med ditt samtycke använder vi dem också för %s.",
		withdraw:      "Du kan när som helst ändra eller återkalla ditt samtycke via knappen Cookieinställningar längst ned på varje sida.",
		and:           "och",
	},
	"en": {
		onlyNecessary: "We only use cookies and similar technologies that are necessary for the site to work. You can read more about them with the Cookie settings button at the bottom of every page.",
		necessary:     "We use cookies and similar technologies that are necessary for the site to work.",
		withConsent:   "With your consent we also use them for %s.",
		withdraw:      "You can change or withdraw your consent at any time with the Cookie settings button at the bottom of every page.",
		and:           "and",
	},
}

// list joins words as a sentence does: "a", "a and b", "a, b and c".
func list(words []string, and string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " " + and + " " + words[len(words)-1]
}
