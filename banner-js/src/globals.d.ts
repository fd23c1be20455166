// The server replaces this identifier in the minified bundle with the site's
// published BannerConfig as a JSON object literal. Reference it once only.
declare const __SAMTYCKE_CONFIG__: import("./config").BannerConfig;

interface Navigator {
  /** Global Privacy Control (not yet in lib.dom). */
  globalPrivacyControl?: boolean;
}
