// A person's initials on a colour of their own (decorative: their name is always beside it).
// The letters are drawn by CSS from `data-initials`, so they are not part of the text of
// the button the avatar sits in (whose accessible name is the person's name).

import type { CSSProperties } from "react";
import { avatarHue, initials, nameOf } from "../chat/names";
import type { User } from "../chat/protocol";

export function Avatar({ user, size = "small" }: { user: User; size?: "small" | "large" }) {
  const style = { "--avatar-hue": avatarHue(user.id) } as CSSProperties;
  return (
    <span className={`avatar ${size}`} style={style} aria-hidden="true" data-initials={initials(nameOf(user))} />
  );
}
