import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { translate, type Lang, type MessageKey, type Params } from '../i18n';

export interface LangValue {
  lang: Lang;
  t: (key: MessageKey, params?: Params) => string;
}

export function langValue(lang: Lang): LangValue {
  return { lang, t: (key, params) => translate(lang, key, params) };
}

export const LangContext = createContext<LangValue>(langValue('en'));

export function useLang(): LangValue {
  return useContext(LangContext);
}
