// A labelled text input in the layout of the account pages' forms.
import type { JSX } from 'preact';

type InputProps = Omit<JSX.InputHTMLAttributes<HTMLInputElement>, 'id' | 'class'>;

export function TextField({ id, label, ...input }: { id: string; label: string } & InputProps) {
  return (
    <div class="field">
      <label class="label" for={id}>
        {label}
      </label>
      <input id={id} class="text-input" {...input} />
    </div>
  );
}
