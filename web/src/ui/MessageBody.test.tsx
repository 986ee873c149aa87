import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { MentionNames, MessageBody } from "./MessageBody";

const html = (text: string) => renderToStaticMarkup(<MessageBody text={text} />);

describe("a message's text", () => {
  it("is never parsed as HTML", () => {
    const out = html('<img src=x onerror="alert(1)"> <b>hi</b>');
    expect(out).not.toContain("<img");
    expect(out).not.toContain("<b>");
    expect(out).toContain("&lt;img");
  });

  it("makes web addresses clickable links that open in a new tab", () => {
    const out = html("see https://example.com/a?b=1 and www.example.org");
    expect(out).toContain('href="https://example.com/a?b=1"');
    expect(out).toContain('href="https://www.example.org"');
    expect(out).toContain('target="_blank"');
    expect(out).toContain('rel="noopener noreferrer nofollow"');
  });

  it("links no javascript: address", () => {
    expect(html("javascript:alert(1)")).not.toContain("href");
  });

  it("formats bold, italic, inline code and code blocks", () => {
    const out = html("**bold** and *it* and _also_ and `x < y`\n```\nlet a = 1;\n**not bold**\n```");
    expect(out).toContain("<strong>bold</strong>");
    expect(out).toContain("<em>it</em>");
    expect(out).toContain("<em>also</em>");
    expect(out).toContain("<code>x &lt; y</code>");
    expect(out).toContain('<pre class="code-block"><code>let a = 1;\n**not bold**</code></pre>');
  });

  it("leaves lone stars, snake_case and arithmetic alone", () => {
    const out = html("2 * 3 * 4 and some_snake_case");
    expect(out).not.toContain("<em>");
  });

  it("shows a mention as the person's name, marked when it is me, and never as a mail link", () => {
    const lookup = (email: string) =>
      email === "ada@example.com" ? { name: "Ada <b>Lovelace</b>", me: true } : undefined;
    const out = renderToStaticMarkup(
      <MentionNames.Provider value={lookup}>
        <MessageBody text="@Ada@Example.com and @zed@example.com, see mail@example.com" />
      </MentionNames.Provider>,
    );
    expect(out).toContain('<span class="mention me" title="Ada@Example.com">@Ada &lt;b&gt;Lovelace&lt;/b&gt;</span>');
    expect(out).toContain('<span class="mention" title="zed@example.com">@zed@example.com</span>');
    expect(out).not.toContain("mailto:ada");
  });
});
