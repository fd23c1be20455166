// Types of the configuration the server inlines as __SAMTYCKE_CONFIG__.
// Mirrors schemas/site-config.schema.json (field names as in the JSON), minus
// allowed_origins, controller and consent.retention_months, plus site,
// version, fingerprint, endpoint, notice and details. Items are reduced to
// what erasing them needs; their descriptions, the categories' descriptions
// and the justification of the necessary category load lazily from details.

import type { Words } from "./i18n";

/** Language code, e.g. "sv" or "en" (pattern ^[a-z]{2,3}(-[A-Z]{2})?$). */
export type Lang = string;

/** One text per language code. */
export type Localized = Record<Lang, string>;

export interface Category {
  id: string;
  title: Localized;
}

export type ItemType = "cookie" | "local_storage" | "session_storage" | "indexeddb" | "pixel";

/** A first-party item of an optional category: what withdrawal deletes. */
export interface Erasable {
  name: string;
  pattern?: string;
  type: ItemType;
  category: string;
}

export interface Texts {
  title: string;
  description: string;
  accept_all: string;
  reject_all: string;
  settings: string;
  save: string;
  close: string;
  always_on: string;
  withdraw: string;
  notice_link: string;
}

export interface Appearance {
  position: "bottom" | "bottom-left" | "bottom-right" | "center";
  background: string;
  text: string;
  button_background: string;
  button_text: string;
  font_family?: string;
  radius_px?: number;
  floating_button?: "bottom-left" | "bottom-right" | "off";
}

export type ConsentModeKey =
  | "ad_storage" | "ad_user_data" | "ad_personalization"
  | "analytics_storage" | "functionality_storage" | "personalization_storage";

export interface ConsentMode {
  google: boolean;
  microsoft_uet?: boolean;
  mapping?: Partial<Record<ConsentModeKey, string>>;
}

export interface BannerConfig {
  /** Site id, e.g. "demo". */
  site: string;
  /** Published configuration version. */
  version: number;
  /** Hash of the consent-relevant content: a choice made under another one is asked again. */
  fingerprint: string;
  /** Absolute URL consents are POSTed to. */
  endpoint: string;
  /** Absolute URL of the cookie notice page (its embeddable part is notice + "/embed.json"). */
  notice: string;
  /** Absolute URL of this version's item details, fetched with ?lang= when the second layer first opens. */
  details: string;
  /** Absolute URL of the second layer's stylesheet, fetched when it first opens. */
  styles: string;
  name: string;
  default_language: Lang;
  languages: Lang[];
  /** reload_on_withdraw: false when the site stops its trackers itself on a refusal (default true). */
  consent: { lifetime_days: number; cookie_domain?: string; reload_on_withdraw?: boolean };
  categories: Category[];
  items: Erasable[];
  /** Per language, the site's texts together with the banner's words (i18n.ts). */
  texts: Record<Lang, Texts & Words>;
  appearance: Appearance;
  consent_mode?: ConsentMode;
}

/** Every category id mapped to granted (true) or not. */
export type Choices = Record<string, boolean>;

export type Method = "accept_all" | "reject_all" | "custom" | "withdraw" | "gpc";

/** Where a decision was made: the first layer, or the settings (second layer, placeholders, API). */
export type Source = "banner" | "settings";
