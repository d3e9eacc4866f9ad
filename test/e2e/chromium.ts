/** Debian's Chromium and the flags every browser test starts it with (never a download). */
export const CHROMIUM = '/usr/bin/chromium';

export const HEADLESS_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];
