/** A command or text shown in full (selectable where the clipboard API is not offered) with a copy button. */
import { useState } from 'preact/hooks';

export function CopyBox({ label, text }: { label: string; text: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      setCopied(false);
    }
  };
  return (
    <div class="copy-box">
      <div class="copy-head">
        <span>{label}</span>
        {navigator.clipboard ? (
          <button type="button" class="small" onClick={copy}>
            {copied ? 'Copied' : 'Copy'}
          </button>
        ) : null}
      </div>
      <pre class="copy-text">{text}</pre>
    </div>
  );
}
