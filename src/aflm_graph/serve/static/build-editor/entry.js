// The query page's editor: CodeMirror 6 with the SPARQL mode of @codemirror/legacy-modes, exposed as
// window.AflmEditor. Rebuild ../editor.min.js with `npm ci && npm run build` in this folder.
import {EditorState} from "@codemirror/state";
import {EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection} from "@codemirror/view";
import {StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching} from "@codemirror/language";
import {autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap} from "@codemirror/autocomplete";
import {lintGutter, setDiagnostics} from "@codemirror/lint";
import {defaultKeymap, history, historyKeymap, indentWithTab} from "@codemirror/commands";
import {sparql} from "@codemirror/legacy-modes/mode/sparql";

window.AflmEditor = {
  EditorState, EditorView, keymap, lineNumbers, highlightActiveLine, drawSelection,
  StreamLanguage, syntaxHighlighting, defaultHighlightStyle, bracketMatching,
  autocompletion, completionKeymap, closeBrackets, closeBracketsKeymap,
  lintGutter, setDiagnostics, defaultKeymap, history, historyKeymap, indentWithTab,
  sparql: StreamLanguage.define(sparql),
};
