// Where the person decides about notifications: an offer shown once, after their first
// conversation exists (never at load, when nothing has happened yet), and switches in the
// left pane's footer to change their mind.

import type { ChatState } from "../chat/state";
import { canNotify, saveNotificationSettings, turnOnNotifications, useNotificationSettings } from "./notifications";

export function NotificationOffer({ state }: { state: ChatState }) {
  const settings = useNotificationSettings();
  const hasDirect = Object.values(state.conversations).some((c) => c.kind === "direct");
  if (!canNotify || settings.asked || settings.desktop || !hasDirect) return null;
  return (
    <div className="notice offer" role="region" aria-label="Notifications">
      <span>Get a desktop notification when someone writes to you or mentions you while Banter is in the background?</span>
      <button className="small primary" onClick={() => void turnOnNotifications()}>
        Turn on
      </button>
      <button className="link" onClick={() => saveNotificationSettings({ asked: true })}>
        Not now
      </button>
    </div>
  );
}

export function NotificationSwitches() {
  const settings = useNotificationSettings();
  return (
    <fieldset className="switches">
      <legend>Notifications</legend>
      {canNotify && (
        <label>
          <input
            type="checkbox"
            checked={settings.desktop}
            onChange={(e) =>
              e.target.checked ? void turnOnNotifications() : saveNotificationSettings({ desktop: false, asked: true })
            }
          />
          Desktop notifications
        </label>
      )}
      <label>
        <input type="checkbox" checked={settings.sound} onChange={(e) => saveNotificationSettings({ sound: e.target.checked })} />
        Sound for direct messages and mentions
      </label>
    </fieldset>
  );
}
