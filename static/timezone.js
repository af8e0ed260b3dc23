// Tell the hub the reader's time zone (a cookie read by integration_hub.core.timezones), so the next page
// shows times in it; the page says which zone it shows. No framework.
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("hub_tz=" + zone) === -1) {
      document.cookie = "hub_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (error) { /* an old browser: times stay in the hub's zone */ }
})();
