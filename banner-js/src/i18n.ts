// The banner's own words for its controls. They are data, one file per
// language in banner-js/lang; the server adds the words of each language a
// site configures to that language's texts when it inlines the
// configuration, so a script carries only its site's languages. The site's
// own texts (title, description, the first layer's buttons) come from its
// configuration; the item details arrive already worded from details.json.

export interface Words {
  intro: string;
  gpc: string;
  /** The disclosure of a category's items. */
  show: string;
  fail: string;
  /** "Your consent ID", and "chosen" before the date of the choice. */
  id: string;
  at: string;
  /** A placeholder's text: {p} the provider, {c} the category. */
  held: string;
  once: string;
  always: string;
  proof: string;
}
