package tokenizer

// Post-processors (TemplateProcessing, Bert/Roberta, ByteLevel, Sequence):
// the special tokens added around an encoding.

import (
	"encoding/json"
	"fmt"
)

func (h *HF) parsePostProcessor(raw json.RawMessage, path string) (prefix, suffix []int, err error) {
	typ, obj, ok, err := typed(raw, path)
	if err != nil || !ok {
		return nil, nil, err
	}
	switch typ {
	case "ByteLevel":
		return nil, nil, nil
	case "Sequence":
		list, err := listField(obj, "processors", path)
		if err != nil {
			return nil, nil, err
		}
		for i, r := range list {
			p, s, err := h.parsePostProcessor(r, fmt.Sprintf("%s.processors[%d]", path, i))
			if err != nil {
				return nil, nil, err
			}
			prefix = append(p, prefix...)
			suffix = append(suffix, s...)
		}
		return prefix, suffix, nil
	case "TemplateProcessing":
		var single []struct {
			SpecialToken *struct {
				ID string `json:"id"`
			} `json:"SpecialToken"`
			Sequence *struct {
				ID string `json:"id"`
			} `json:"Sequence"`
		}
		var specials map[string]struct {
			IDs []int `json:"ids"`
		}
		if err := field(obj, "single", path, &single); err != nil {
			return nil, nil, err
		}
		if err := field(obj, "special_tokens", path, &specials); err != nil {
			return nil, nil, err
		}
		seen := false
		for i, piece := range single {
			switch {
			case piece.Sequence != nil:
				if seen {
					return nil, nil, fmt.Errorf("%s.single[%d]: more than one sequence", path, i)
				}
				seen = true
			case piece.SpecialToken != nil:
				sp, ok := specials[piece.SpecialToken.ID]
				if !ok {
					return nil, nil, fmt.Errorf("%s.single[%d]: special token %q missing from special_tokens", path, i, piece.SpecialToken.ID)
				}
				if seen {
					suffix = append(suffix, sp.IDs...)
				} else {
					prefix = append(prefix, sp.IDs...)
				}
			default:
				return nil, nil, fmt.Errorf("%s.single[%d]: expected SpecialToken or Sequence", path, i)
			}
		}
		if !seen {
			return nil, nil, fmt.Errorf("%s.single: no Sequence entry", path)
		}
		return prefix, suffix, nil
	case "BertProcessing", "RobertaProcessing":
		var cls, sep [2]json.RawMessage
		if err := field(obj, "cls", path, &cls); err != nil {
			return nil, nil, err
		}
		if err := field(obj, "sep", path, &sep); err != nil {
			return nil, nil, err
		}
		var clsID, sepID int
		if err := json.Unmarshal(cls[1], &clsID); err != nil {
			return nil, nil, fmt.Errorf("%s.cls: expected [token, id]: %w", path, err)
		}
		if err := json.Unmarshal(sep[1], &sepID); err != nil {
			return nil, nil, fmt.Errorf("%s.sep: expected [token, id]: %w", path, err)
		}
		return []int{clsID}, []int{sepID}, nil
	}
	return nil, nil, fmt.Errorf("%s.type %q is not supported (want TemplateProcessing, ByteLevel, BertProcessing, RobertaProcessing or Sequence)", path, typ)
}
